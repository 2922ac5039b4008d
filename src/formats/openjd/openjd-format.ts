import type { JobDefinitionFormat } from '../../engine/job-types/job-definition-formats.js';
import { OPENJD_JOB_TYPES } from './openjd-jobs.js';

/**
 * Open Job Description, as the engine sees it: the job types an OpenJD job is made of.
 * OpenJD defines no tries, outputs or post-run checks of its own, so the hooks pass.
 */
export const openjdFormat: JobDefinitionFormat = {
  name: 'openjd',
  jobTypes: OPENJD_JOB_TYPES,
  maxTries: () => undefined,
  outputUploaded: async () => undefined,
  settleOutputs: async () => undefined,
};
