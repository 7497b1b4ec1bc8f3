import { type Command, Option } from 'commander';
import { CorralClient } from '../../client/client.js';
import { socketPath } from '../../config.js';
import type { Context } from '../context.js';
import { formatTable, toJson } from '../output.js';

export interface DoctorRequest {
  format: 'table' | 'json';
}

export function registerDoctor(program: Command, dispatch: (req: DoctorRequest) => Promise<void>): void {
  program
    .command('doctor')
    .description('check that this host can run containers and how it isolates them, and say what to do about anything missing (works without corrald)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { format: 'table' | 'json' }) => dispatch({ format: o.format }));
}

/**
 * The user namespace containers get without --userns: the running corrald's word, or what one the
 * CLI starts would use (CORRAL_DEFAULT_USERNS, else private). Never starts corrald.
 */
async function defaultUserns(ctx: Context): Promise<{ mode: 'private' | 'host'; source: string }> {
  const socket = socketPath(ctx.paths);
  try {
    const v = await new CorralClient(socket).version(AbortSignal.timeout(5_000));
    return { mode: v.defaultUserns ?? 'private', source: `corrald pid ${v.pid}` };
  } catch {
    const env = ctx.io.env.CORRAL_DEFAULT_USERNS;
    if (env === 'host' || env === 'private') return { mode: env, source: `no corrald answers at ${socket}; one started now gets CORRAL_DEFAULT_USERNS=${env}` };
    return { mode: 'private', source: `no corrald answers at ${socket}; one started now uses the default` };
  }
}

export async function doctor(ctx: Context, req: DoctorRequest): Promise<number> {
  // The probes (execa, cgroups, storage, nft) load only for doctor, not at every CLI start.
  const [{ diagnose }, { ExecaRunner }, { storageCheck }, { probeStorage, realHost, realProbeDeps }, { shimPathUnchecked }, iso, { bridgeFilterCheck }] = await Promise.all([
    import('../../system/doctor.js'),
    import('../../system/runner.js'),
    import('../../storage/doctor.js'),
    import('../../storage/index.js'),
    import('../../runtime/shim.js'),
    import('../../security/doctor.js'),
    import('../../network/doctor.js'),
  ]);
  const shim = shimPathUnchecked();
  const checks = await diagnose(ctx.paths, shim);
  checks.push(storageCheck(ctx.paths.dataRoot, await probeStorage(ctx.paths.dataRoot, realProbeDeps(realHost(new ExecaRunner())))));
  const userns = await iso.usernsChecks(ctx.paths.dataRoot, shim);
  const mode = await defaultUserns(ctx);
  checks.push(...userns, iso.usernsDefaultCheck(mode.mode, mode.source, userns.find((c) => c.name === 'idmapped mounts')?.status === 'ok'));
  checks.push(await iso.seccompCheck(shim), await iso.cgroupIsolationCheck(ctx.paths.cgroupRoot), await bridgeFilterCheck());
  if (req.format === 'json') ctx.out(toJson(checks));
  else {
    ctx.out(formatTable(['CHECK', 'STATUS', 'DETAIL'], checks.map((c) => [c.name, c.status, c.detail])));
    for (const c of checks.filter((x) => x.fix)) ctx.out(`${c.status === 'fail' ? 'fix' : 'hint'} (${c.name}): ${c.fix}\n`);
  }
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
