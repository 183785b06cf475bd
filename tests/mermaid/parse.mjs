// Reads a JSON list of Mermaid diagram texts on stdin; prints a JSON list with, for each,
// null when Mermaid's own parser accepts it, else the parser's error message.
import mermaid from "mermaid";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const diagrams = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const text of diagrams) {
  try {
    await mermaid.parse(text);
    results.push(null);
  } catch (error) {
    results.push(String(error && error.message ? error.message : error));
  }
}
process.stdout.write(JSON.stringify(results) + "\n");
