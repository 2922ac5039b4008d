import dns from 'node:dns';
import type http from 'node:http';
import { isIP } from 'node:net';
import { agentFor } from './http-transport.js';

/*
 * Where the worker's calls go: the servers it was given, each name spread over the
 * addresses it resolves to. A farm's replicas behind one DNS name with several A/AAAA
 * records (round-robin DNS, no balancer) are then failed over one address at a time, as
 * several --server URLs are, while each request still names the server (Host header, TLS
 * server name and certificate check). A name with one address is left to the OS for each
 * connection, as before; the names are resolved again once every target has failed in a
 * row, so a replica added to or dropped from the name is seen.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address of a host name, in the resolver's order. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/**
 * The OS resolver (getaddrinfo: /etc/hosts, DNS, …), as a connection would use. Read off
 * the module at each call, not bound at import.
 */
export const osResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true });

export interface Target {
  /** The server's URL as given (no trailing slash). */
  server: string;
  /** The one address its requests connect to; absent: the OS picks (an IP, one address). */
  address?: ResolvedAddress;
  /** How logs name it: the URL, and the address when pinned. */
  label: string;
  agent: http.Agent;
}

export class ServerTargets {
  private list: Target[];
  private current = 0;
  /** Whether the names were resolved since the last round of failures. */
  private fresh = false;
  private resolving: Promise<void> | undefined;
  private readonly agents = new Map<string, http.Agent>();

  constructor(
    private readonly servers: readonly string[],
    private readonly resolver: Resolver,
    private readonly onResolveError?: (message: string) => void,
  ) {
    this.list = servers.map((server) => this.target(server));
  }

  /** The target calls go to now. */
  get now(): Target {
    return this.list[this.current]!;
  }

  /** Resolves the names, unless done since the last full round of failures. */
  async ready(): Promise<void> {
    if (this.fresh) return;
    this.resolving ??= this.resolveAll().finally(() => (this.resolving = undefined));
    await this.resolving;
  }

  /**
   * Moves on after a call to `failed` could not get through, unless a concurrent call has
   * already moved on (two calls failing together must not skip one). Answers the message
   * to log when it moved.
   */
  failOver(failed: Target, why: string): string | undefined {
    const at = this.list.indexOf(failed);
    if (at !== this.current) return undefined;
    const next = (at + 1) % this.list.length;
    // A full round failed: the names may have moved (a replica replaced, a record added).
    if (next === 0) this.fresh = false;
    if (this.list.length < 2) return undefined;
    this.current = next;
    return `${failed.label} failed (${why}); moving to ${this.now.label}`;
  }

  private async resolveAll(): Promise<void> {
    const lists = await Promise.all(this.servers.map((server) => this.resolve(server)));
    const was = this.now;
    this.list = lists.flat();
    const same = this.list.findIndex((t) => t.label === was.label);
    this.current = same >= 0 ? same : 0;
    this.fresh = true;
  }

  private async resolve(server: string): Promise<Target[]> {
    const hostname = new URL(server).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(hostname) !== 0) return [this.target(server)];
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolver(hostname);
    } catch (error) {
      // The request will fail on its own and say why; it is retried as any failure.
      this.onResolveError?.(`cannot resolve ${hostname}: ${(error as Error).message}`);
      return [this.target(server)];
    }
    const unique = [...new Map(addresses.map((a) => [a.address, a])).values()];
    if (unique.length < 2) return [this.target(server)];
    return unique.map((address) => this.target(server, address));
  }

  private target(server: string, address?: ResolvedAddress): Target {
    const label = address ? `${server} (${address.address})` : server;
    let agent = this.agents.get(label);
    if (!agent) this.agents.set(label, (agent = agentFor(server, address)));
    return { server, label, agent, ...(address ? { address } : {}) };
  }
}
