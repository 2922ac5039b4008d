import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long a closed connection's peer has to finish reading before it is cut. */
const END_GRACE_MS = 1000;

/**
 * Closes every connection that holds no request while the server stops, including those
 * that go quiet only after close() began (a long-poll just answered). Node's own
 * closeIdleConnections() runs once, and misses connections it does not count as idle: a
 * client that hung up an aborted poll left its socket open, and close() waited for the
 * headers timeout (65–90 s). A connection with a request in flight is left to finish it.
 */
export function closeConnectionsWhenQuiet(app: FastifyInstance): void {
  const inFlight = new Map<Socket, number>();
  let closing = false;
  const end = (socket: Socket): void => {
    socket.end();
    setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
  };
  app.server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket as Socket | undefined;
    const count = socket && inFlight.get(socket);
    if (socket && count !== undefined) {
      inFlight.set(socket, count + 1);
      reply.raw.once('close', () => {
        const left = (inFlight.get(socket) ?? 1) - 1;
        inFlight.set(socket, left);
        if (closing && left === 0) end(socket);
      });
    }
    done();
  });
  app.addHook('preClose', (done) => {
    closing = true;
    for (const [socket, count] of inFlight) if (count === 0) end(socket);
    done();
  });
}
