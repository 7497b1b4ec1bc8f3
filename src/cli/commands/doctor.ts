import { type Command, Option } from 'commander';
import { diagnose } from '../../system/doctor.js';
import { ExecaRunner } from '../../system/runner.js';
import { storageCheck } from '../../storage/doctor.js';
import { probeStorage, realHost, realProbeDeps } from '../../storage/index.js';
import { shimPathUnchecked } from '../../runtime/shim.js';
import { cgroupIsolationCheck, seccompCheck, usernsChecks, usernsDefaultCheck } from '../../security/doctor.js';
import { bridgeFilterCheck } from '../../network/doctor.js';
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
  const shim = shimPathUnchecked();
  const checks = await diagnose(ctx.paths, shim);
  checks.push(storageCheck(ctx.paths.dataRoot, await probeStorage(ctx.paths.dataRoot, realProbeDeps(realHost(new ExecaRunner())))));
  const userns = await usernsChecks(ctx.paths.dataRoot, shim);
  const mode = await defaultUserns(ctx);
  checks.push(...userns, usernsDefaultCheck(mode.mode, mode.source, userns.find((c) => c.name === 'idmapped mounts')?.status === 'ok'));
  checks.push(await seccompCheck(shim), await cgroupIsolationCheck(ctx.paths.cgroupRoot), await bridgeFilterCheck());
  if (req.format === 'json') ctx.out(toJson(checks));
  else {
    ctx.out(formatTable(['CHECK', 'STATUS', 'DETAIL'], checks.map((c) => [c.name, c.status, c.detail])));
    for (const c of checks.filter((x) => x.fix)) ctx.out(`${c.status === 'fail' ? 'fix' : 'hint'} (${c.name}): ${c.fix}\n`);
  }
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
