/**
 * The HTTP surface: OpenAI's Videos API under /v1 and the web studio at /. Handlers are a few lines each:
 * read the body into one shape, call the service, answer JSON. Auth, rate limits, CORS, the poll-after header
 * and error shapes are applied once, in hooks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { badRequest, errorBody, notFound, rateLimited, toApiError, unauthorized } from './http-errors.js';
import type { RequestBody } from './params.js';
import { RateLimiter } from './rate-limit.js';
import { toVideoObject, type VideoService } from './service.js';

export interface AppOptions {
  service: VideoService;
  /** Bearer keys; empty = no auth. */
  apiKeys: string[];
  /** Requests a minute per key (or address); 0 = unlimited. */
  rateLimitPerMinute: number;
  /** Allowed origins for CORS: true = any, [] = CORS off. */
  corsOrigins: string[] | true;
  /** Value of the `openai-poll-after-ms` header. */
  pollAfterMs: number;
  logger?: boolean;
}

/** Studio assets: next to this file in the sources; the build does not copy them, so dist falls back to src. */
function studioDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'studio');
  return existsSync(join(beside, 'index.html')) ? beside : join(here, '..', '..', 'src', 'server', 'studio');
}
const STUDIO_FILES: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'studio.js': 'text/javascript; charset=utf-8', 'studio.css': 'text/css; charset=utf-8' };

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `video[id]` -> fields.video.id, as the SDK's multipart encoder writes nested objects. */
function setField(fields: Record<string, unknown>, name: string, value: unknown): void {
  const m = /^([A-Za-z_][\w]*)\[([A-Za-z_][\w]*)\]$/.exec(name);
  if (!m) {
    fields[name] = value;
    return;
  }
  const outer = (fields[m[1]!] ??= {});
  if (typeof outer !== 'object' || outer === null) throw badRequest(m[1]!, `'${m[1]}' is given both as a value and as an object.`);
  (outer as Record<string, unknown>)[m[2]!] = value;
}

/** The body of a JSON or multipart request as one shape. */
async function readBody(req: FastifyRequest): Promise<RequestBody> {
  const fields: Record<string, unknown> = {};
  const files: Record<string, Buffer> = {};
  if (req.isMultipart()) {
    for await (const part of req.parts()) {
      if (part.type === 'file') files[part.fieldname] = await part.toBuffer();
      else setField(fields, part.fieldname, part.value);
    }
    return { fields, files };
  }
  const body = req.body;
  if (body === undefined || body === null) return { fields, files };
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest(null, 'The request body must be a JSON object.', 'invalid_body');
  for (const [k, v] of Object.entries(body)) setField(fields, k, v);
  return { fields, files };
}

function sendJson(reply: FastifyReply, status: number, payload: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(JSON.stringify(payload));
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { service } = opts;
  const { maxUploadBytes } = service.limits;
  const app = Fastify({
    logger: opts.logger ?? false,
    // Clients keep connections alive (the SDK does); closing the server should not wait for them.
    forceCloseConnections: true,
    // A JSON body may carry the image as a base64 data URL: 4/3 of the upload limit plus the other fields.
    bodyLimit: Math.ceil(maxUploadBytes * 1.4) + 256 * 1024,
  });
  const keys = opts.apiKeys.map(digest);
  const limiter = opts.rateLimitPerMinute > 0 ? new RateLimiter(opts.rateLimitPerMinute) : null;

  if (opts.corsOrigins === true || opts.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: opts.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      exposedHeaders: ['openai-poll-after-ms', 'retry-after'],
    });
  }
  // Bodies are JSON or multipart; anything else (fastify also parses text/plain by default) is a 415.
  app.removeContentTypeParser('text/plain');
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: maxUploadBytes, files: 2, fields: 32, parts: 34, fieldSize: Math.ceil(maxUploadBytes * 1.4) + 1024 },
  });

  app.setErrorHandler((err, req, reply) => {
    const api = toApiError(err);
    if (api.status >= 500) req.log.error(err);
    void reply.headers(api.headers);
    return sendJson(reply, api.status, errorBody(api));
  });
  app.setNotFoundHandler((req, reply) => {
    const api = notFound(`Unknown request URL: ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}.`);
    return sendJson(reply, 404, errorBody(api));
  });

  // Who is calling: the key's digest (never the key) when keys are on. Set by the auth hook.
  app.decorateRequest('owner', null);
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    void reply.header('openai-poll-after-ms', String(opts.pollAfterMs));
    if (keys.length > 0) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m) throw unauthorized('Missing API key: send "Authorization: Bearer <key>".');
      const d = digest(m[1]!);
      if (!keys.some((k) => timingSafeEqual(k, d))) throw unauthorized('Incorrect API key provided.');
      (req as FastifyRequest & { owner: string | null }).owner = d.toString('hex').slice(0, 32);
    }
    if (limiter) {
      const wait = limiter.take(ownerOf(req) ?? req.ip);
      if (wait > 0) throw rateLimited(`Rate limit reached: at most ${opts.rateLimitPerMinute} requests a minute. Retry after ${wait} s.`, wait);
    }
  });
  const ownerOf = (req: FastifyRequest) => (req as FastifyRequest & { owner: string | null }).owner;

  // ---- Videos API ----------------------------------------------------------------------------------------
  app.post('/v1/videos', async (req, reply) => sendJson(reply, 200, toVideoObject(await service.create(await readBody(req), ownerOf(req)))));

  app.get('/v1/videos', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const one = (name: string) => {
      const v = q[name];
      if (Array.isArray(v)) throw badRequest(name, `'${name}' is given more than once.`);
      return typeof v === 'string' ? v : undefined;
    };
    const limitText = one('limit');
    const limit = limitText === undefined ? 20 : Number(limitText);
    if (!/^\d+$/.test(limitText ?? '20') || !Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw badRequest('limit', `'limit' must be an integer from 1 to 100, got '${String(limitText).slice(0, 20)}'.`);
    }
    const order = one('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw badRequest('order', `'order' must be 'asc' or 'desc', got '${order.slice(0, 20)}'.`);
    return sendJson(reply, 200, service.list({ after: one('after'), limit, order }, ownerOf(req)));
  });

  app.get<{ Params: { id: string } }>('/v1/videos/:id', async (req, reply) => sendJson(reply, 200, toVideoObject(service.get(req.params.id, ownerOf(req)))));

  app.delete<{ Params: { id: string } }>('/v1/videos/:id', async (req, reply) => sendJson(reply, 200, await service.delete(req.params.id, ownerOf(req))));

  app.get<{ Params: { id: string }; Querystring: { variant?: string } }>('/v1/videos/:id/content', async (req, reply) => {
    const { path, type } = service.contentPath(req.params.id, req.query.variant, ownerOf(req));
    const info = await stat(path).catch(() => undefined);
    if (!info) throw notFound(`The content of video '${req.params.id}' is gone (expired or deleted).`);
    return reply.code(200).type(type).header('content-length', info.size).send(createReadStream(path));
  });

  app.post<{ Params: { id: string } }>('/v1/videos/:id/remix', async (req, reply) =>
    sendJson(reply, 200, toVideoObject(await service.remix(req.params.id, await readBody(req), ownerOf(req)))),
  );
  app.post('/v1/videos/edits', async (req, reply) => sendJson(reply, 200, toVideoObject(await service.edit(await readBody(req), ownerOf(req)))));
  app.post('/v1/videos/extensions', async (req, reply) => sendJson(reply, 200, toVideoObject(await service.extend(await readBody(req), ownerOf(req)))));

  // ---- health and studio ---------------------------------------------------------------------------------
  app.get('/health', async (_req, reply) => sendJson(reply, 200, service.health()));
  app.get('/v1/studio/config', async (_req, reply) =>
    sendJson(reply, 200, { ...service.capabilities, max_prompt_chars: service.limits.maxPromptChars, auth: keys.length > 0 }),
  );

  const dir = studioDir();
  const serveStudio = async (file: string, reply: FastifyReply) => {
    const type = STUDIO_FILES[file];
    if (!type) throw notFound(`No such studio file: ${file.slice(0, 60)}`);
    return reply.code(200).type(type).header('cache-control', 'no-cache').send(await readFile(join(dir, file)));
  };
  app.get('/', async (_req, reply) => serveStudio('index.html', reply));
  app.get<{ Params: { file: string } }>('/studio/:file', async (req, reply) => serveStudio(req.params.file, reply));

  return app;
}

