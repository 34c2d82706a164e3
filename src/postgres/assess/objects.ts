/** Objects on the source that neither COPY nor logical decoding carries as they are. */
import * as inspect from '../inspect';
import { finding, listNames, type Check } from './check';
import type { DatabaseContext } from './context';

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    id: 'source.large_objects',
    scope: 'source',
    run: async ({ source, database }) => {
      const los = await inspect.largeObjectCount(source.client);
      return finding(
        los > 0 ? 'warn' : 'pass',
        los > 0
          ? `${los} large objects (pg_largeobject) in ${database}; neither COPY nor logical decoding carries them`
          : 'no large objects',
        'store them in bytea columns, or move them separately with pg_dump --large-objects after switchover',
      );
    },
  },
  {
    id: 'source.c_functions',
    scope: 'source',
    run: async ({ source, schemas }) => {
      const cfuncs = await inspect.cFunctions(source.client, schemas);
      return finding(
        cfuncs.length > 0 ? 'warn' : 'pass',
        cfuncs.length > 0
          ? `C-language functions outside extensions: ${listNames(cfuncs)}; their shared library must exist on the target`
          : 'no C-language functions outside extensions',
        'install the same shared libraries on the target server, or exclude the schema holding them',
      );
    },
  },
];
