// Authorization server of mcplint's live test stack: oidc-provider, run as is,
// configured like a deployment an MCP client can use (RFC 8414 metadata, open
// Dynamic Client Registration, PKCE S256, RFC 8707 resource indicators, refresh
// tokens, JWT access tokens).
//
// Usage: node server.mjs CONFIG.json
//
// CONFIG.json (written by tests/livestack/stack.py):
//   {
//     "providers": [{"name": "main", "issuer": "https://auth.zone", "mount": ""},
//                   {"name": "tenant", "issuer": "https://tenant.zone/tenant1", "mount": "/tenant1"},
//                   {"name": "no_post", "issuer": "https://x.zone", "mount": "",
//                    "client_auth_methods": ["none", "client_secret_basic"]}],  // default: oidc-provider's
//     "jwks": {"keys": [<private JWK>]},   // signs JWT access tokens; the MCP server has the public half
//     "zone": "mcplint-stack.com",          // resource indicators accepted: https://<host under zone>/mcp
//     "rejected_resources": ["https://resource-rejected.zone/mcp"],
//     "delay_file": "/tmp/.../delay_ms",    // milliseconds to wait before every response (benchmark)
//                                           // (a request carrying X-Livestack-Delay-Ms waits that long too:
//                                           // nginx sets it for a slow endpoint of one scenario)
//     "ports_file": "/tmp/.../as-ports.json" // written once every provider listens: {"main": port, ...}
//   }
//
// Each provider listens on its own loopback port (chosen by the kernel) behind nginx,
// which terminates TLS and sets X-Forwarded-Proto/Host; `proxy = true` makes Koa trust them.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const rejected = new Set(config.rejected_resources ?? []);

const MCP_SCOPES = 'mcp:read mcp:write';

// A resource indicator names an MCP endpoint of the stack when it is exactly
// https://<one label>.<zone>/mcp (or under the site.<zone> subdomain used by custom sites).
function isAcceptedResource(resource) {
  if (typeof resource !== 'string' || rejected.has(resource)) return false;
  const url = URL.parse(resource);
  if (!url || url.href !== resource || url.protocol !== 'https:' || url.pathname !== '/mcp') return false;
  if (url.port || url.search || url.hash || url.username || url.password) return false;
  return url.hostname.endsWith(`.${config.zone}`);
}

function delayMs() {
  try {
    return Number.parseInt(readFileSync(config.delay_file, 'utf8'), 10) || 0;
  } catch {
    return 0; // no file: no injected latency
  }
}

function providerConfiguration(clientAuthMethods) {
  return {
    jwks: config.jwks,
    // Which token endpoint auth methods clients may register with (and the metadata lists).
    ...(clientAuthMethods ? { clientAuthMethods } : {}),
    // Static keys: tokens and cookies stay valid for the life of the process only anyway.
    cookies: { keys: ['livestack-cookie-key-not-secret'] },
    // No interactive login is ever driven by the tests; a fixed URL keeps the
    // authorization endpoint valid without the development interaction views.
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    scopes: ['openid', 'offline_access', 'mcp:read', 'mcp:write'],
    responseTypes: ['code'], // the code flow only: no implicit grant advertised
    pkce: { methods: ['S256'], required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true }, // open DCR: no initial access token
      // RFC 7592: the answer offers registration_client_uri, so a probe can delete its client.
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      clientCredentials: { enabled: true }, // lets self-tests obtain a JWT without a browser
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (!isAcceptedResource(resourceIndicator)) {
            throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          }
          return {
            scope: MCP_SCOPES,
            audience: resourceIndicator,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 3600,
          };
        },
      },
    },
    // Refresh tokens for every code grant, like a deployment Claude can keep using.
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: 3600, RefreshToken: 86400, ClientCredentials: 3600 },
  };
}

// oidc-provider checks the refresh token before the resource, so a refresh with an
// invalid token would say invalid_grant even for a resource it never serves. Real
// authorization servers often check the target first; doing so here lets a probe with a
// registered client observe invalid_target for a rejected resource (mcplint MCP606).
// Client authentication still comes first: an unknown client keeps invalid_client.
function resourceFirstOnRefresh(provider) {
  provider.use(async (ctx, next) => {
    await next();
    const params = ctx.oidc?.params;
    if (ctx.oidc?.route !== 'token' || ctx.status !== 400 || ctx.body?.error !== 'invalid_grant') return;
    if (params?.grant_type !== 'refresh_token' || params.resource === undefined) return;
    const resources = [params.resource].flat();
    const bad = resources.find((r) => !isAcceptedResource(r));
    if (bad !== undefined) {
      ctx.body = { error: 'invalid_target', error_description: `unknown resource ${bad}` };
    }
  });
}

function startProvider({ issuer, mount, client_auth_methods: clientAuthMethods }) {
  const provider = new Provider(issuer, providerConfiguration(clientAuthMethods));
  provider.proxy = true; // behind nginx: trust X-Forwarded-Proto / X-Forwarded-Host
  // A 500 is a bug of the stack, not a scenario: say why in the log.
  provider.on('server_error', (ctx, error) => console.error(`server_error on ${ctx.method} ${ctx.path}:`, error));
  resourceFirstOnRefresh(provider);
  const callback = provider.callback();

  const server = createServer(async (req, res) => {
    const delay = delayMs() + (Number.parseInt(req.headers['x-livestack-delay-ms'], 10) || 0);
    if (delay > 0) await sleep(delay);
    if (mount) {
      // Mounted under a path (issuer https://host/tenant1): oidc-provider derives its
      // mount path from originalUrl minus url, as behind Express.
      if (req.url !== mount && !req.url.startsWith(`${mount}/`)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not_found' }));
        return;
      }
      req.originalUrl = req.url;
      req.url = req.url.slice(mount.length) || '/';
    }
    callback(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

const ports = {};
for (const provider of config.providers) {
  ports[provider.name] = await startProvider(provider);
}
// Written atomically once everything listens: the stack polls for this file.
writeFileSync(`${config.ports_file}.tmp`, JSON.stringify(ports));
renameSync(`${config.ports_file}.tmp`, config.ports_file);
console.log(`authserver listening: ${JSON.stringify(ports)}`);
