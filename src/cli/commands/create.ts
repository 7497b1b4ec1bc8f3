import type { Command } from 'commander';
import type { CreateRequest } from '../../api/types.js';
import type { Context } from '../context.js';
import { ValidationError } from '../../errors.js';
import { buildEnv, collect, parseLabels, parseVolume } from '../options.js';
import { storageOptFromFlags } from '../../storage/size.js';
import { addLimitFlags, toLimitRequest, type LimitFlags } from '../limit-flags.js';
import { securityOptsToRequest } from '../security-opt.js';
import { prepareTemplate } from './template-prepare.js';

/** Flags shared by `create` and `run` (Docker's names). */
export interface ContainerFlags extends LimitFlags {
  name?: string;
  rm?: boolean;
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  readOnly?: boolean;
  volume?: string[];
  userns?: string;
  capAdd?: string[];
  capDrop?: string[];
  init?: boolean;
  interactive?: boolean;
  tty?: boolean;
  label?: string[];
  restart?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthOnFailure?: string;
  network?: string[];
  ip?: string;
  networkAlias?: string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  dns?: string[];
  /** commander's `--no-lxcfs`: false when given. */
  lxcfs?: boolean;
  storageOpt?: string[];
  securityOpt?: string[];
  boot?: boolean;
  stopSignal?: string;
}

export function addContainerFlags(cmd: Command): Command {
  return addLimitFlags(cmd)
    .argument('<template>', 'template to create the container from')
    .argument('[command...]', 'program and arguments (default: the template\'s)')
    .option('--name <name>', 'container name')
    .option('--rm', 'remove the container when it exits')
    .option('--entrypoint <program>', 'replace the template\'s entrypoint (the command becomes its arguments; "" clears it)')
    .option('-e, --env <K=V|K>', 'set an environment variable (repeatable)', collect)
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user (name or uid, optionally :group)')
    .option('--hostname <name>', 'container hostname')
    .option('--read-only', 'mount the container\'s root filesystem read-only')
    .option('-v, --volume <host:ctr[:ro|rw][,idmap]>', 'bind mount a host path (repeatable); idmap keeps its files\' host owners (trusts the container with them)', collect)
    .option('--userns <mode>', 'host: share the host\'s user namespace (container root is host root); default: a private one')
    .option('--cap-add <cap>', 'add a capability (repeatable)', collect)
    .option('--cap-drop <cap>', 'drop a capability (repeatable)', collect)
    .option('--init', 'run an init as PID 1 that forwards signals and reaps zombies')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-l, --label <K=V>', 'set a label (repeatable)', collect)
    .option('--health-cmd <command>', 'health check command, run with sh -c inside the container')
    .option('--health-interval <duration>', 'time between health checks (default 30s)')
    .option('--health-timeout <duration>', 'a check running longer fails (default 30s)')
    .option('--health-retries <n>', 'consecutive failures before unhealthy (default 3)')
    .option('--health-start-period <duration>', 'failures in this first period do not count (default 0s)')
    .option('--health-on-failure <action>', 'when unhealthy: none, kill (the restart policy decides), restart or stop')
    .option('--restart <policy>', 'no, on-failure[:MAX], always or unless-stopped (back-off 10 s doubling to 300 s)')
    .option('--network <name>', 'bridge (default), none, host, or a network name; repeat to join several networks (the first has the default route)', collect)
    .option('--ip <address>', 'fixed IPv4 address on the (first) network')
    .option('--network-alias <name>', 'another name the container answers to on its networks (repeatable)', collect)
    .option('-p, --publish <[hostip:]hostport:port[/tcp|udp]>', 'forward a host port to a container port, e.g. 8080:80 (repeatable)', collect)
    .option('-P, --publish-all', 'publish every --expose port on a random free host port')
    .option('--expose <port[/tcp|udp]>', 'a container port that -P publishes (repeatable)', collect)
    .option('--dns <address>', 'nameserver for the container\'s /etc/resolv.conf instead of the host\'s (repeatable)', collect)
    .option('--no-lxcfs', 'show the host\'s /proc/meminfo, cpuinfo, stat, uptime, ... instead of the container\'s own (LXCFS)')
    .option('--storage-opt <key=value>', 'storage option: size=SIZE gives the writable layer a disk of its own, e.g. size=10G (Docker units, at least 16m)', collect)
    .option('--security-opt <option>', 'seccomp=FILE (a Docker-format profile), seccomp=unconfined, or no-new-privileges (repeatable)', collect)
    .option('--boot', 'a system container: boot the template\'s /sbin/init (systemd) as PID 1, with its own user namespace, cgroup tree and console')
    .option('--stop-signal <signal>', 'what stop sends first: a name (SIGTERM, SIGRTMIN+3) or a number (default SIGTERM; SIGRTMIN+3 with --boot)')
    .passThroughOptions();
}

/** The flags as a CreateRequest (only what was given), env files read and volume paths checked. */
export function toCreateRequest(
  template: string,
  command: string[],
  f: ContainerFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): CreateRequest {
  const req: CreateRequest = { template };
  if (command.length > 0) req.command = command;
  if (f.name !== undefined) req.name = f.name;
  if (f.entrypoint !== undefined) req.entrypoint = f.entrypoint === '' ? [] : [f.entrypoint];
  const vars = buildEnv(f.env ?? [], f.envFile ?? [], env);
  if (vars.length > 0) req.env = vars;
  if (f.workdir !== undefined) req.workdir = f.workdir;
  if (f.user !== undefined) req.user = f.user;
  if (f.hostname !== undefined) req.hostname = f.hostname;
  if (f.readOnly) req.readOnly = true;
  if (f.volume?.length) req.volumes = f.volume.map((v) => parseVolume(v, cwd));
  if (f.userns !== undefined) req.userns = f.userns as CreateRequest['userns'];
  if (f.capAdd?.length) req.capAdd = f.capAdd;
  if (f.capDrop?.length) req.capDrop = f.capDrop;
  if (f.init) req.init = true;
  if (f.tty) req.tty = true;
  if (f.interactive) req.interactive = true;
  if (f.rm) req.autoRemove = true;
  if (f.label?.length) req.labels = parseLabels(f.label);
  const limits = toLimitRequest(f);
  if (limits) req.limits = limits;
  if (f.ignoreMissingLimits) req.ignoreMissingLimits = true;
  if (f.restart !== undefined) req.restart = f.restart;
  if (f.network?.length) req.network = f.network;
  if (f.ip !== undefined) req.ip = f.ip;
  if (f.networkAlias?.length) req.networkAliases = f.networkAlias;
  if (f.publish?.length) req.publish = f.publish;
  if (f.publishAll) req.publishAll = true;
  if (f.expose?.length) req.expose = f.expose;
  if (f.dns?.length) req.dns = f.dns;
  if (f.lxcfs === false) req.lxcfs = false;
  if (f.storageOpt?.length) req.storageOpt = storageOptFromFlags(f.storageOpt);
  if (f.boot) req.boot = true;
  if (f.stopSignal !== undefined) req.stopSignal = f.stopSignal;
  if (f.securityOpt?.length) Object.assign(req, securityOptsToRequest(f.securityOpt, cwd));
  if (f.healthCmd !== undefined) {
    req.healthcheck = { test: f.healthCmd };
    if (f.healthInterval !== undefined) req.healthcheck.interval = f.healthInterval;
    if (f.healthTimeout !== undefined) req.healthcheck.timeout = f.healthTimeout;
    if (f.healthRetries !== undefined) req.healthcheck.retries = Number(f.healthRetries);
    if (f.healthStartPeriod !== undefined) req.healthcheck.startPeriod = f.healthStartPeriod;
    if (f.healthOnFailure !== undefined) req.healthcheck.onFailure = f.healthOnFailure;
  } else if ([f.healthInterval, f.healthTimeout, f.healthRetries, f.healthStartPeriod, f.healthOnFailure].some((v) => v !== undefined)) {
    throw new ValidationError('--health-interval, --health-timeout, --health-retries, --health-start-period and --health-on-failure need --health-cmd');
  }
  return req;
}

export function registerCreate(program: Command, dispatch: (req: CreateRequest) => Promise<void>): void {
  addContainerFlags(program.command('create').description('create a container without starting it; prints its id')).action(
    (template: string, command: string[], flags: ContainerFlags) => dispatch(toCreateRequest(template, command, flags)),
  );
}

export async function create(ctx: Context, req: CreateRequest): Promise<number> {
  const client = await ctx.client();
  await prepareTemplate(ctx, client, req.template);
  const res = await client.create(req);
  for (const w of res.warnings ?? []) ctx.warn(`warning: ${w}`);
  ctx.out(`${res.id}\n`);
  return 0;
}
