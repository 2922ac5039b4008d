import dns from 'node:dns';

/*
 * A test's preload for a child process, `node --import <this file's URL>?hosts=…`: the
 * host names of its query ("name=address,address;name2=…") resolve to those addresses through
 * dns.promises.lookup, the resolver a worker reads a server's addresses with; any other
 * name goes to the OS. A name of several addresses without touching /etc/hosts.
 */

const table = new Map(
  (new URL(import.meta.url).searchParams.get('hosts') ?? '')
    .split(';')
    .filter(Boolean)
    .map((entry) => {
      const [name, list] = entry.split('=');
      return [name, list.split(',').filter(Boolean)];
    }),
);
const real = dns.promises.lookup.bind(dns.promises);
dns.promises.lookup = async (hostname, options) => {
  const addresses = table.get(hostname);
  if (!addresses) return real(hostname, options);
  const found = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  return options?.all ? found : found[0];
};
