import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

/*
 * Fastify compiles every route's schemas, with Ajv for the input and fast-json-stringify
 * for the answers, each time an application is built. Compiling was ~70% of building one of
 * Drover's applications (~450 ms of CPU, and as much again in the collector). A process
 * that builds more than one (`drover serve` builds a listener per face; the test suites
 * build one per test server, several hundred in all) now compiles each distinct schema
 * once: the compiled functions are pure, so every application may share them.
 */

type Factory = NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'];

interface RouteSchema {
  schema: unknown;
  httpPart?: string;
}
type Compile = (route: RouteSchema) => unknown;
type Build = (externals: unknown, options: unknown) => Compile;

/** One compiler per set of shared schemas and options, remembering what it compiled. */
function remembering(build: Build): Build {
  const compilers = new Map<string, Compile>();
  return (externals, options) => {
    const key = JSON.stringify([externals, options]);
    let compiler = compilers.get(key);
    if (!compiler) {
      const compile = build(externals, options);
      const compiled = new Map<string, unknown>();
      compiler = (route) => {
        // The part of the request matters: Fastify's Ajv coerces a query string's types,
        // not a body's.
        const schemaKey = `${route.httpPart ?? ''} ${JSON.stringify(route.schema)}`;
        let fn = compiled.get(schemaKey);
        if (fn === undefined) {
          fn = compile(route);
          compiled.set(schemaKey, fn);
        }
        return fn;
      };
      compilers.set(key, compiler);
    }
    return compiler;
  };
}

export const sharedCompilers = {
  buildValidator: remembering(AjvCompiler() as unknown as Build),
  buildSerializer: remembering(SerializerSelector() as unknown as Build),
} as unknown as Factory;
