import { DroverError } from '../../domain/errors.js';
import type { EngineContext } from '../../engine/context.js';
import { createJobType } from '../../engine/job-types/job-types.js';
import { findJobTypeByName } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { COMMAND_LINE_PLUGIN, COMMAND_LINE_TYPE, commandLineParameters } from './command-line.js';
import { badRequest } from './errors.js';

/*
 * A Deadline plugin is a Drover job type. CommandLine is the built-in command-line type.
 * Any other plugin is the job type of the same name: one an operator defined runs for real
 * (with PluginInfo as its parameters); otherwise it is created on first use, and its
 * command fails at once with a message that says how to make the plugin run.
 */

export const PLUGIN_TYPE_CATEGORY = 'deadline-plugin';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export async function jobTypeForPlugin(ctx: EngineContext, plugin: string): Promise<JobTypeRow> {
  const name =
    plugin.toLowerCase() === COMMAND_LINE_PLUGIN.toLowerCase() ? COMMAND_LINE_TYPE : plugin;
  const found = await findJobTypeByName(ctx.db, name);
  if (found) return found;
  if (!NAME.test(name)) {
    throw badRequest(
      `Plugin "${plugin}" is not a valid plugin name (letters, digits, '-', '_' or '.')`,
    );
  }
  const message = `Drover has no Deadline plugin "${name}": define a Drover job type named "${name}" whose command runs it, or submit with the CommandLine plugin.`;
  try {
    return await createJobType(ctx, {
      name,
      title: `Deadline plugin ${name}`,
      description: message,
      category: PLUGIN_TYPE_CATEGORY,
      definition: {
        // The name is checked above, so it cannot break out of the quotes.
        command: ['/bin/sh', '-c', `echo '${message.replace(/'/g, '')}' >&2; exit 1`],
        maxTries: 1,
      },
    });
  } catch (error) {
    // Another request created it at the same moment.
    if (error instanceof DroverError && error.code === 'CONFLICT') {
      const again = await findJobTypeByName(ctx.db, name);
      if (again) return again;
    }
    throw error;
  }
}

/**
 * The job type's parameters for a PluginInfo, at submission or in a save: CommandLine's are
 * translated, an operator's type takes PluginInfo as it is, a stand-in type takes none.
 */
export function pluginParameters(
  type: Pick<JobTypeRow, 'name' | 'category'>,
  pluginInfo: Record<string, unknown>,
): Record<string, unknown> {
  if (type.name === COMMAND_LINE_TYPE) return commandLineParameters(pluginInfo);
  return type.category === PLUGIN_TYPE_CATEGORY ? {} : pluginInfo;
}

/** The plugin a job of another face shows as. */
export function pluginOfType(typeName: string): string {
  return typeName === COMMAND_LINE_TYPE ? COMMAND_LINE_PLUGIN : typeName;
}
