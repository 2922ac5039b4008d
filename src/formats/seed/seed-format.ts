import type { JobDefinitionFormat } from '../../engine/job-types/job-definition-formats.js';
import { seedDocument } from './seed-manifests.js';
import { registerProductFile, settleSeedOutputs } from './seed-outputs.js';

/** Scale's Seed manifests, as the engine sees them: tries, product files, the post step. */
export const seedFormat: JobDefinitionFormat = {
  name: 'seed',
  maxTries: (document) => seedDocument(document)?.max_tries,
  async outputUploaded(tx, job, output, now) {
    await registerProductFile(tx, job, output, now);
  },
  settleOutputs: settleSeedOutputs,
};
