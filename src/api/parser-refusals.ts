import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';

/*
 * What the HTTP parser refuses before any route sees it (a head past 16 KB, a request line
 * or header that is not HTTP, a chunk extension too long, a request that never finished)
 * reaches Node's 'clientError', which Fastify answered with a fixed JSON body whatever the
 * method and the listener: a HEAD got a body, so its client read that body as the next
 * answer (the fuzz's auth slices found three), and Deadline's clients got JSON where they
 * read "Error: ..." text. Here each listener says how its refusals look; the answer closes
 * the connection, since the parser cannot say where the next request would begin.
 */

export type RefusalBody = (status: number, message: string) => { type: string; body: string };

/** Node's default limit of a request's head (request line and headers). */
const MAX_HEAD_BYTES = 16 * 1024;

interface ParserError extends Error {
  code?: string;
  reason?: string;
  rawPacket?: Buffer;
}

/** The status and message of a parser refusal; undefined when there is no one to answer. */
function refusalOf(error: ParserError): { status: number; message: string } | undefined {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        message: `the request line and headers are larger than the ${MAX_HEAD_BYTES / 1024} KB this server accepts`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'a chunk extension of the request body is too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request did not arrive in time' };
    default: {
      const reason = error.reason ?? error.message.replace(/^Parse Error:\s*/, '');
      return { status: 400, message: `the request is not valid HTTP/1.1: ${reason}` };
    }
  }
}

/** Whether the bytes the parser saw begin a HEAD request, whose answer has no body. */
function isHead(error: ParserError): boolean {
  return error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
}

/**
 * Sockets whose request was answered before its body was all read (a 401 or 404 ahead of a
 * large upload): a parser error later on them (the body cut short) has no one to answer,
 * and an answer written after the first would be read as garbage.
 */
const answeredEarly = new WeakSet<Socket>();

/** The clientErrorHandler option for a Fastify listener whose refusals look like `render`. */
export function parserRefusals(
  render: RefusalBody,
): NonNullable<FastifyServerOptions['clientErrorHandler']> {
  return (raw, socket) => {
    // Node's parser errors carry the bytes seen as a Buffer (Fastify's type says otherwise).
    const error = raw as unknown as ParserError;
    const refusal = refusalOf(error);
    if (!refusal || socket.destroyed || !socket.writable || answeredEarly.has(socket)) {
      socket.destroy();
      return;
    }
    const { type, body } = render(refusal.status, refusal.message);
    const length = Buffer.byteLength(body);
    const head =
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Bad Request'}\r\n` +
      `Content-Type: ${type}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
    socket.end(isHead(error) ? head : head + body);
  };
}

/** Marks the sockets whose answer went out before their request's body was read. */
export function noteEarlyAnswers(app: FastifyInstance): void {
  app.addHook('onResponse', (request, _reply, done) => {
    const socket = request.raw.socket;
    if (!request.raw.complete) {
      answeredEarly.add(socket);
      // Read to its end after all, the connection may carry the next request as usual.
      request.raw.once('end', () => answeredEarly.delete(socket));
    }
    done();
  });
}
