// Recorded upstream bodies under test/fixtures/, imported as text through Vite's `?raw`.
declare module '*?raw' {
  const text: string
  export default text
}
