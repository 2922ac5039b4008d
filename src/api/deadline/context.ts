import type { Engine } from '../../engine/engine.js';

/** What every route of this face needs. */
export interface DeadlineContext {
  engine: Engine;
  /** Job archives are written here and imported only from here. */
  archiveDir: string;
}
