// Parse Mermaid diagrams with the real `mermaid` package (its own grammar), for the tests.
// Input on stdin: a JSON array of diagram sources. Output: a JSON array of {ok, type|error}.
// jsdom provides the DOM that mermaid's sanitiser expects; nothing is rendered.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const source of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(source);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (error) {
    results.push({ ok: false, error: String(error?.message ?? error).slice(0, 500) });
  }
}
process.stdout.write(JSON.stringify(results));
