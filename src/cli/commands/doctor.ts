import { type Command, Option } from 'commander';
import type { Context } from '../context.js';
import { formatTable, toJson } from '../output.js';

export interface DoctorRequest {
  format: 'table' | 'json';
}

export function registerDoctor(program: Command, dispatch: (req: DoctorRequest) => Promise<void>): void {
  program
    .command('doctor')
    .description('check that this host can run containers, and say what to do about anything missing (works without corrald)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { format: 'table' | 'json' }) => dispatch({ format: o.format }));
}

export async function doctor(ctx: Context, req: DoctorRequest): Promise<number> {
  // The probes (execa, cgroups, storage) load only for doctor, not at every CLI start.
  const [{ diagnose }, { ExecaRunner }, { storageCheck }, { probeStorage, realHost, realProbeDeps }, { shimPathUnchecked }] = await Promise.all([
    import('../../system/doctor.js'),
    import('../../system/runner.js'),
    import('../../storage/doctor.js'),
    import('../../storage/index.js'),
    import('../../runtime/shim.js'),
  ]);
  const checks = await diagnose(ctx.paths, shimPathUnchecked());
  checks.push(storageCheck(ctx.paths.dataRoot, await probeStorage(ctx.paths.dataRoot, realProbeDeps(realHost(new ExecaRunner())))));
  if (req.format === 'json') ctx.out(toJson(checks));
  else {
    ctx.out(formatTable(['CHECK', 'STATUS', 'DETAIL'], checks.map((c) => [c.name, c.status, c.detail])));
    for (const c of checks.filter((x) => x.fix)) ctx.out(`${c.status === 'fail' ? 'fix' : 'hint'} (${c.name}): ${c.fix}\n`);
  }
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
