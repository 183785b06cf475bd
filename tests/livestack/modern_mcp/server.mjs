// New-only MCP server of mcplint's live test stack: the official TypeScript SDK 2.x
// (`@modelcontextprotocol/server`, pinned by package-lock.json) serving protocol
// revision 2026-07-28 only. `createMcpHandler(factory, { legacy: 'reject' })` is the
// SDK's own setting for a modern-only endpoint: it answers `server/discover`, and a
// 2025-era `initialize` with HTTP 400 and the JSON-RPC error -32022 (unsupported
// protocol version) naming the one revision it serves. The Python SDK 2.x has no such
// setting (it always serves both generations), hence this peer.
//
// Usage: node server.mjs CONFIG.json
//
// CONFIG.json (written by tests/livestack/stack.py):
//   {"ports_file": "/tmp/.../modern-mcp-ports.json"}   // written once it listens: {"modern_mcp": port}
//
// An open server (no authorization). nginx terminates TLS and forwards the public
// name in Host; node:http requests are turned into the web-standard Request the
// handler takes, and its Response streamed back.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const handler = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'livestack modern', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Return the text unchanged.', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    return server;
  },
  { legacy: 'reject' },
);

async function toRequest(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(`https://${req.headers.host}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : undefined,
  });
}

const server = createServer(async (req, res) => {
  try {
    const response = await handler.fetch(await toRequest(req));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) {
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  } catch (error) {
    // A bug of the stack, not a scenario: say why in the log.
    console.error(`modern_mcp: ${req.method} ${req.url}:`, error);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('livestack modern_mcp error');
  }
});

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  // Written atomically once it listens: the stack polls for this file.
  writeFileSync(`${config.ports_file}.tmp`, JSON.stringify({ modern_mcp: port }));
  renameSync(`${config.ports_file}.tmp`, config.ports_file);
  console.log(`modern_mcp listening on 127.0.0.1:${port}`);
});
