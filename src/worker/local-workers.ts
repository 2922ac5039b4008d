/** Worker processes that `drover serve --local-workers N` runs beside the server. */
export async function startLocalWorkers(
  _serverUrl: string,
  _count: number,
  _dataDir: string,
): Promise<{ stop(): Promise<void> }> {
  return { stop: async () => undefined };
}
