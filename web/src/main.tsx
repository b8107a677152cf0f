import { render } from "preact";
function App() { return <h1>Reliant</h1>; }
render(<App />, document.getElementById("app")!);
