/*
 * UFDL's type system as its server registers it: the job types (type constructors such as
 * `PK`, `Dataset`, `str`) and job contracts (`Train`, `Predict`, `Export`) a UFDL server's
 * migrations put in its job_types and job_contracts tables, each naming the Python package
 * and class that define it (ufdl-job-types, ufdl-job-contracts). A pk is the row's place in
 * that table, so it is the same on every Drover and across restarts. Drover runs none of
 * these classes; it reads type strings only to know which of these names are in use.
 */

export interface UfdlRegisteredClass {
  pk: number;
  name: string;
  pkg: string;
  cls: string;
}

const rows = (pkg: string, list: [string, string][]): UfdlRegisteredClass[] =>
  list.map(([name, cls], i) => ({ pk: i + 1, name, pkg, cls: `${pkg}.${cls}` }));

export const UFDL_JOB_TYPES: readonly UfdlRegisteredClass[] = rows('ufdl.jobtypes', [
  ['UFDLType', 'base.UFDLType'],
  ['UFDLJSONType', 'base.UFDLJSONType'],
  ['FiniteJSONType', 'base.FiniteJSONType'],
  ['ServerResidentType', 'base.ServerResidentType'],
  ['NamedServerType', 'base.NamedServerType'],
  ['ValueType', 'base.ValueType'],
  ['str', 'base.String'],
  ['int', 'base.Integer'],
  ['float', 'base.Float'],
  ['bool', 'base.Boolean'],
  ['Array', 'standard.container.Array'],
  ['Map', 'standard.container.Map'],
  ['CUDAVersion', 'standard.server.CUDAVersion'],
  ['Dataset', 'standard.server.Dataset'],
  ['DockerImage', 'standard.server.DockerImage'],
  ['Domain', 'standard.server.Domain'],
  ['Framework', 'standard.server.Framework'],
  ['Hardware', 'standard.server.Hardware'],
  ['PretrainedModel', 'standard.server.PretrainedModel'],
  ['BLOB', 'standard.util.BLOB'],
  ['Compressed', 'standard.util.Compressed'],
  ['JSON', 'standard.util.JSON'],
  ['Nothing', 'standard.util.Nothing'],
  ['JobOutput', 'standard.JobOutput'],
  ['Model', 'standard.Model'],
  ['Name', 'standard.Name'],
  ['PK', 'standard.PK'],
]);

export interface UfdlContract extends UfdlRegisteredClass {
  /** The names of the inputs a template fulfilling the contract takes. */
  inputs: readonly string[];
}

const CONTRACT_INPUTS: Record<string, readonly string[]> = {
  Predict: ['model', 'dataset'],
  Train: ['dataset'],
  Export: [],
};

export const UFDL_JOB_CONTRACTS: readonly UfdlContract[] = rows('ufdl.jobcontracts', [
  ['Predict', 'standard.Predict'],
  ['Train', 'standard.Train'],
  ['Export', 'standard.Export'],
]).map((c) => ({ ...c, inputs: CONTRACT_INPUTS[c.name] ?? [] }));

/**
 * The constructor names in a UFDL type string (`PK<Dataset<Domain<'Image Classification'>>>`
 * names PK, Dataset and Domain; quoted values are arguments, not types), or undefined when
 * the text is no type string at all, such as a media type.
 */
export function typeConstructorNames(typeString: string): string[] | undefined {
  const text = typeString.trim();
  if (!/^[A-Za-z_]\w*\s*(<[\s\S]*>)?$/.test(text)) return undefined;
  const unquoted = text.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
  const names = new Set<string>();
  for (const m of unquoted.matchAll(/(?:^|[<,])\s*([A-Za-z_]\w*)\s*(?=[<,>]|$)/g)) {
    names.add(m[1]!);
  }
  return [...names];
}
