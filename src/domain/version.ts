/** Drover's version: the server's, and each worker's in its telemetry. */
export const VERSION = '0.1.0';
