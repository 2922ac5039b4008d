import type { JobDefinitionFormat } from '../engine/job-types/job-definition-formats.js';
import { openjdFormat } from './openjd/openjd-format.js';
import { seedFormat } from './seed/seed-format.js';

/** Every job-definition format a server speaks; startEngine takes this list. */
export const JOB_DEFINITION_FORMATS: readonly JobDefinitionFormat[] = [seedFormat, openjdFormat];
