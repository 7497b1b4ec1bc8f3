import { Command, CommanderError } from 'commander';
import type { CreateRequest } from '../api/types.js';
import { createContext, processIo, type Context, type GlobalOptions, type Io } from './context.js';
import { exitCodeFor, formatError } from './errors.js';
import { hardenParsing } from './parsing.js';
import { addExamples } from './examples.js';
import { create, registerCreate } from './commands/create.js';
import { exec, registerExec, type ExecCommandRequest } from './commands/exec.js';
import { inspect, registerInspect, type InspectRequest } from './commands/inspect.js';
import { kill, registerKill, type KillRequest } from './commands/kill.js';
import { logs, registerLogs, type LogsRequest } from './commands/logs.js';
import { ps, registerPs, type PsRequest } from './commands/ps.js';
import { registerRestart, restart, type RestartRequest } from './commands/restart.js';
import { registerRm, rm, type RmRequest } from './commands/rm.js';
import { registerRun, run, type RunRequest } from './commands/run.js';
import { registerStart, start, type StartRequest } from './commands/start.js';
import { registerStop, stop, type StopRequest } from './commands/stop.js';
import { registerTemplate, templateBuild, templateInspect, templateLs, templatePrune, templateRm, type TemplateBuildCommandRequest, type TemplateInspectRequest, type TemplateLsRequest, type TemplatePruneRequest, type TemplateRmRequest } from './commands/template.js';
import { commit, registerCommit, type CommitRequest } from './commands/commit.js';
import { exportContainer, registerExport, type ExportRequest } from './commands/export.js';
import { clientVersion, registerVersion, version, type VersionRequest } from './commands/version.js';
import { doctor, registerDoctor, type DoctorRequest } from './commands/doctor.js';
import { registerUpdate, update, type UpdateCommandRequest } from './commands/update.js';
import { registerStats, stats, type StatsRequest } from './commands/stats.js';
import { events, registerEvents, type EventsRequest } from './commands/events.js';
import { attach, registerAttach, type AttachRequest } from './commands/attach.js';
import { consoleCmd, registerConsole, type ConsoleRequest } from './commands/console.js';
import { registerWait, wait, type WaitRequest } from './commands/wait.js';
import { registerValidate, validate, type ValidateRequest } from './commands/validate.js';
import { explain, registerExplain, type ExplainRequest } from './commands/explain.js';
import { plan, registerPlan, type PlanRequest } from './commands/plan.js';
import { apply, registerApply, type ApplyRequest } from './commands/apply.js';
import { deleteManifest, registerDelete, type DeleteRequest } from './commands/delete.js';
import { drift, registerDrift, type DriftRequest } from './commands/drift.js';
import { registerTemplateImport, templateImport, type TemplateImportRequest } from './commands/template-import.js';
import { load, registerLoad, type LoadRequest } from './commands/load.js';
import { registerRename, rename, type RenameRequest } from './commands/rename.js';
import { pause, registerPause, type PauseRequest } from './commands/pause.js';
import { registerUnpause, unpause, type UnpauseRequest } from './commands/unpause.js';
import { registerTop, top, type TopRequest } from './commands/top.js';
import { port, registerPort, type PortRequest } from './commands/port.js';
import { diff, registerDiff, type DiffRequest } from './commands/diff.js';
import { cp, registerCp, type CpRequest } from './commands/cp.js';
import { registerSystemPrune, systemPrune, type SystemPruneRequest } from './commands/system-prune.js';
import { registerVolume, volumeCreate, volumeInspect, volumeLs, volumePrune, volumeRm, type VolumeCreateCommandRequest, type VolumeInspectRequest, type VolumeLsRequest, type VolumePruneCommandRequest, type VolumeRmRequest } from './commands/volume.js';
import { backup, registerBackup, type BackupCommandRequest } from './commands/backup.js';
import { registerRestore, restore, type RestoreCommandRequest } from './commands/restore.js';
import { clone, registerClone, registerSnapshot, snapshotCreate, snapshotLs, snapshotRestore, snapshotRm, type CloneCommandRequest, type SnapshotCreateRequest, type SnapshotLsRequest, type SnapshotRefRequest } from './commands/snapshot.js';
import { containerPrune, registerContainerPrune, type ContainerPruneRequest } from './commands/container-prune.js';
import { registerSystemDf, systemDf, type SystemDfRequest } from './commands/system-df.js';
import { noRegistry, registerNoRegistry, type NoRegistryRequest } from './commands/no-registry.js';
import { completion, registerCompletion, type CompletionRequest } from './commands/completion.js';
import { completeWords } from './completion/names.js';
import { networkCreate, networkInspect, networkLs, networkRm, registerNetwork, type NetworkCreateCommandRequest, type NetworkInspectRequest, type NetworkLsRequest, type NetworkRmRequest } from './commands/network.js';

/** What each command's parser produces; the effect functions take exactly these. */
export interface Requests {
  run: RunRequest;
  create: CreateRequest;
  start: StartRequest;
  stop: StopRequest;
  restart: RestartRequest;
  kill: KillRequest;
  rm: RmRequest;
  ps: PsRequest;
  inspect: InspectRequest;
  exec: ExecCommandRequest;
  logs: LogsRequest;
  'template ls': TemplateLsRequest;
  'template import': TemplateImportRequest;
  load: LoadRequest;
  'template inspect': TemplateInspectRequest;
  'template rm': TemplateRmRequest;
  'template prune': TemplatePruneRequest;
  'template build': TemplateBuildCommandRequest;
  commit: CommitRequest;
  export: ExportRequest;
  version: VersionRequest;
  doctor: DoctorRequest;
  update: UpdateCommandRequest;
  stats: StatsRequest;
  events: EventsRequest;
  attach: AttachRequest;
  console: ConsoleRequest;
  wait: WaitRequest;
  validate: ValidateRequest;
  explain: ExplainRequest;
  plan: PlanRequest;
  apply: ApplyRequest;
  delete: DeleteRequest;
  drift: DriftRequest;
  'network create': NetworkCreateCommandRequest;
  'network ls': NetworkLsRequest;
  'network inspect': NetworkInspectRequest;
  'network rm': NetworkRmRequest;
  'no-registry': NoRegistryRequest;
  rename: RenameRequest;
  pause: PauseRequest;
  unpause: UnpauseRequest;
  top: TopRequest;
  port: PortRequest;
  diff: DiffRequest;
  cp: CpRequest;
  'system prune': SystemPruneRequest;
  'volume create': VolumeCreateCommandRequest;
  'volume ls': VolumeLsRequest;
  'volume inspect': VolumeInspectRequest;
  'volume rm': VolumeRmRequest;
  'volume prune': VolumePruneCommandRequest;
  'container prune': ContainerPruneRequest;
  'system df': SystemDfRequest;
  backup: BackupCommandRequest;
  restore: RestoreCommandRequest;
  'snapshot create': SnapshotCreateRequest;
  'snapshot ls': SnapshotLsRequest;
  'snapshot restore': SnapshotRefRequest;
  'snapshot rm': SnapshotRefRequest;
  clone: CloneCommandRequest;
  completion: CompletionRequest;
}
export type CommandName = keyof Requests;
export type Dispatch = <K extends CommandName>(name: K, req: Requests[K], globals: GlobalOptions) => Promise<void>;

export const HANDLERS: { [K in CommandName]: (ctx: Context, req: Requests[K]) => Promise<number> } = {
  run,
  create,
  start,
  stop,
  restart,
  kill,
  rm,
  ps,
  inspect,
  exec,
  logs,
  'template ls': templateLs,
  'template import': templateImport,
  load,
  'template inspect': templateInspect,
  'template rm': templateRm,
  'template prune': templatePrune,
  'template build': templateBuild,
  commit,
  export: exportContainer,
  version,
  doctor,
  update,
  stats,
  events,
  attach,
  console: consoleCmd,
  wait,
  validate,
  explain,
  plan,
  apply,
  delete: deleteManifest,
  drift,
  'network create': networkCreate,
  'network ls': networkLs,
  'network inspect': networkInspect,
  'network rm': networkRm,
  'no-registry': noRegistry,
  rename,
  pause,
  unpause,
  top,
  port,
  diff,
  cp,
  'system prune': systemPrune,
  'volume create': volumeCreate,
  'volume ls': volumeLs,
  'volume inspect': volumeInspect,
  'volume rm': volumeRm,
  'volume prune': volumePrune,
  'container prune': containerPrune,
  'system df': systemDf,
  backup,
  restore,
  'snapshot create': snapshotCreate,
  'snapshot ls': snapshotLs,
  'snapshot restore': snapshotRestore,
  'snapshot rm': snapshotRm,
  clone,
  completion,
};

/**
 * The commander program. Parsing only: each command turns its argv into a request object and hands
 * it to `dispatch` (tests pass a recorder; `runCli` passes the real handlers).
 */
export function buildProgram(dispatch: Dispatch, io: Pick<Io, 'stdout' | 'stderr'> = processIo()): Command {
  const program = new Command('corral')
    .description('Linux containers run by corrald')
    .version(clientVersion(), '--version', 'print the client version')
    .option('--data-root <dir>', 'persistent state (default /var/lib/corral, or $CORRAL_DATA_ROOT)')
    .option('--run-root <dir>', 'runtime state and the API socket (default /run/corral, or $CORRAL_RUN_ROOT)')
    .option('--cgroup-parent <name>', 'cgroup subtree for containers (default corral, or $CORRAL_CGROUP_PARENT)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(formatError(s) + '\n'),
    });
  const globals = () => program.opts<GlobalOptions>();
  const to =
    <K extends CommandName>(name: K) =>
    (req: Requests[K]) =>
      dispatch(name, req, globals());

  registerRun(program, to('run'));
  registerCreate(program, to('create'));
  registerStart(program, to('start'));
  registerStop(program, to('stop'));
  registerRestart(program, to('restart'));
  registerKill(program, to('kill'));
  registerRm(program, to('rm'));
  registerPs(program, to('ps'));
  registerInspect(program, to('inspect'));
  registerExec(program, to('exec'));
  registerLogs(program, to('logs'));
  registerTemplate(program, { ls: to('template ls'), inspect: to('template inspect'), rm: to('template rm'), prune: to('template prune'), build: to('template build') });
  const templateCmd = program.commands.find((c) => c.name() === 'template')!;
  registerTemplateImport(templateCmd, to('template import'));
  registerLoad(program, templateCmd, to('load'));
  registerCommit(program, to('commit'));
  registerExport(program, to('export'));
  registerVersion(program, to('version'));
  registerDoctor(program, to('doctor'));
  registerUpdate(program, to('update'));
  registerStats(program, to('stats'));
  registerEvents(program, to('events'));
  registerAttach(program, to('attach'));
  registerConsole(program, to('console'));
  registerWait(program, to('wait'));
  registerValidate(program, to('validate'));
  registerExplain(program, to('explain'));
  registerPlan(program, to('plan'));
  registerApply(program, to('apply'));
  registerDelete(program, to('delete'));
  registerDrift(program, to('drift'));
  registerNetwork(program, { create: to('network create'), ls: to('network ls'), inspect: to('network inspect'), rm: to('network rm') });
  registerNoRegistry(program, to('no-registry'));
  registerRename(program, to('rename'));
  registerPause(program, to('pause'));
  registerUnpause(program, to('unpause'));
  registerTop(program, to('top'));
  registerPort(program, to('port'));
  registerDiff(program, to('diff'));
  registerCp(program, to('cp'));
  registerVolume(program, { create: to('volume create'), ls: to('volume ls'), inspect: to('volume inspect'), rm: to('volume rm'), prune: to('volume prune') });
  registerBackup(program, to('backup'));
  registerRestore(program, to('restore'));
  registerSnapshot(program, { create: to('snapshot create'), ls: to('snapshot ls'), restore: to('snapshot restore'), rm: to('snapshot rm') });
  registerClone(program, to('clone'));
  registerContainerPrune(program, to('container prune'));
  registerSystemDf(program, to('system df'));
  registerSystemPrune(program, to('system prune'));
  registerCompletion(program, to('completion'));
  addExamples(program);
  hardenParsing(program);
  return program;
}

/** Parse argv, run the command, and return the exit code; errors are printed here, once. */
export async function runCli(argv: string[], io: Io = processIo()): Promise<number> {
  // The completion scripts' helper: not a command of the tree (never in --help or suggestions).
  if (argv[0] === '__complete') return completeWords(buildProgram(async () => {}, io), argv.slice(1), io);
  let exitCode = 0;
  let command: string | undefined;
  const program = buildProgram(async (name, req, globals) => {
    exitCode = await (HANDLERS[name] as (ctx: Context, r: typeof req) => Promise<number>)(createContext(globals, io), req);
  }, io);
  program.hook('preAction', (_root, action) => {
    // `network create` is not `create`: a subcommand is named with its parent's name.
    const parent = action.parent;
    command = parent && parent !== program ? `${parent.name()} ${action.name()}` : action.name();
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    // commander has already printed its own errors (through outputError)
    if (!(err instanceof CommanderError)) io.stderr.write(formatError(err) + '\n');
    // A parse error comes before preAction: the command is the first word that names one.
    command ??= argv.find((a) => program.commands.some((c) => c.name() === a));
    return exitCodeFor(err, command);
  }
}
