#!/usr/bin/env node
import { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { daemonLogPath, pidFilePath, resolvePaths, socketPath } from '../config.js';
import { CorralError } from '../errors.js';
import { createCgroupManager } from '../cgroups/detect.js';
import { Containers } from '../runtime/containers.js';
import { shimPath } from '../runtime/shim.js';
import { ExecSessions } from './exec-sessions.js';
import { JsonLogger, type Level } from './logger.js';
import { acquirePidFile } from './pidfile.js';
import { buildRouter, VERSION } from './routes.js';
import { listen } from './server.js';
import { templateSource } from './templates.js';
import { findProgram } from '../system/which.js';
import { dataRootCheck } from '../system/doctor.js';
import { EventJournal } from './events.js';
import { loadPeerCred } from './peer.js';
import { groupId } from '../system/groups.js';
import { parseDuration } from '../util/time.js';
import { dirname, join } from 'node:path';
import { ExecaRunner } from '../system/runner.js';
import { DaemonLxcfs, parseLxcfsMode } from './lxcfs.js';
import { NetnsStore, NetworkRegistry, SocketPortHolder } from '../network/index.js';

const program = new Command('corrald')
  .description('The Corral daemon: owns container state and supervision, serves the API on a unix socket')
  .version(VERSION)
  .option('--data-root <dir>', 'persistent state (templates, containers) [env CORRAL_DATA_ROOT]', undefined)
  .option('--run-root <dir>', 'runtime state and the API socket [env CORRAL_RUN_ROOT]', undefined)
  .option('--cgroup-parent <name>', "name of Corral's cgroup subtree [env CORRAL_CGROUP_PARENT]", undefined)
  .option('--bridge-prefix <prefix>', 'names of this installation\'s bridges and nftables tables, <prefix><n> (default corral: corral0, ...) [env CORRAL_BRIDGE_PREFIX]', undefined)
  .option('--default-userns <mode>', 'user namespace of containers created without --userns: private (their own id range, the default), or host (where the data root\'s filesystem cannot be idmapped, e.g. tmpfs before Linux 6.3) [env CORRAL_DEFAULT_USERNS]', process.env.CORRAL_DEFAULT_USERNS ?? 'private')
  .option('--default-network <mode>', 'network of containers created without --network: bridge, or none (loopback only, e.g. where nftables is missing) [env CORRAL_DEFAULT_NETWORK]', process.env.CORRAL_DEFAULT_NETWORK ?? 'bridge')
  .option('--default-subnet <cidr>', 'subnet of the default network when it is first made (default: the first of 10.88.0.0/16, 10.89.0.0/16, ... that no host route overlaps) [env CORRAL_DEFAULT_SUBNET]', process.env.CORRAL_DEFAULT_SUBNET)
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .option('--log-stderr', 'also write logs to stderr', false)
  .option('--group <name>', 'also serve members of this group: the socket becomes root:GROUP 0660 [env CORRAL_GROUP]', process.env.CORRAL_GROUP)
  .option('--lxcfs <mode>', 'on: run LXCFS under the run root and show each container its own memory, CPUs, uptime and load in /proc (when lxcfs is installed); off: containers see the host\'s [env CORRAL_LXCFS]', process.env.CORRAL_LXCFS ?? 'on')
  .option('--restart-backoff-base <duration>', 'first restart delay of restart policies, then doubling (Docker: 100ms) [env CORRAL_RESTART_BACKOFF_BASE]', process.env.CORRAL_RESTART_BACKOFF_BASE ?? '100ms')
  .option('--restart-backoff-max <duration>', 'the longest restart delay (Kubernetes: 5m) [env CORRAL_RESTART_BACKOFF_MAX]', process.env.CORRAL_RESTART_BACKOFF_MAX ?? '5m')
  .option('--restart-backoff-reset <duration>', 'a run this long starts the delays over (Kubernetes: 10m) [env CORRAL_RESTART_BACKOFF_RESET]', process.env.CORRAL_RESTART_BACKOFF_RESET ?? '10m')
  .action(async (opts: { dataRoot?: string; runRoot?: string; cgroupParent?: string; bridgePrefix?: string; defaultSubnet?: string; defaultNetwork: string; defaultUserns: string; logLevel: Level; logStderr: boolean; restartBackoffBase: string; restartBackoffMax: string; restartBackoffReset: string; group?: string; lxcfs: string }) => {
    const baseMs = parseDuration(opts.restartBackoffBase, '--restart-backoff-base');
    const maxMs = parseDuration(opts.restartBackoffMax, '--restart-backoff-max');
    const resetAfterMs = parseDuration(opts.restartBackoffReset, '--restart-backoff-reset');
    if (maxMs < baseMs) throw new CorralError('validation', `--restart-backoff-max ${opts.restartBackoffMax} is shorter than --restart-backoff-base ${opts.restartBackoffBase}`);
    if (opts.defaultNetwork !== 'bridge' && opts.defaultNetwork !== 'none') throw new CorralError('validation', `--default-network ${opts.defaultNetwork}: want bridge or none`);
    const defaultNetwork = opts.defaultNetwork;
    if (opts.defaultUserns !== 'private' && opts.defaultUserns !== 'host') throw new CorralError('validation', `--default-userns ${opts.defaultUserns}: want private or host`);
    const defaultUserns = opts.defaultUserns;
    const lxcfsMode = parseLxcfsMode(opts.lxcfs);
    if (process.getuid?.() !== 0) throw new CorralError('permission', 'corrald must run as root');
    const paths = resolvePaths(opts);
    await mkdir(paths.runRoot, { recursive: true, mode: 0o700 });
    await mkdir(paths.dataRoot, { recursive: true, mode: 0o700 });
    const dataRoot = await dataRootCheck(paths.dataRoot);
    if (dataRoot.status === 'fail') throw new CorralError('unavailable', `${dataRoot.detail}; ${dataRoot.fix}`);
    await mkdir(dirname(daemonLogPath(paths)), { recursive: true, mode: 0o750 });
    const log = new JsonLogger(daemonLogPath(paths), opts.logLevel, opts.logStderr);
    const release = await acquirePidFile(pidFilePath(paths));
    try {
      const cgroups = await createCgroupManager(paths, { log: (message) => log.warn(message, { component: 'cgroups' }), shim: shimPath() });
      const templates = templateSource(paths);
      const events = new EventJournal(join(paths.dataRoot, 'events.ndjson'));
      await events.load();
      const backoff = { baseMs, maxMs, resetAfterMs };
      const runner = new ExecaRunner();
      const network = {
        registry: new NetworkRegistry({ runner, dataRoot: paths.dataRoot, prefix: paths.bridgePrefix, defaultSubnet: opts.defaultSubnet, portHolder: new SocketPortHolder(), log: (m: string) => log.info(m) }),
        netns: new NetnsStore(paths.runRoot, runner),
        runner,
        nsenter: await findProgram('nsenter'),
      };
      const lxcfs = await DaemonLxcfs.create(lxcfsMode, { paths, runner, log, shim: shimPath() });
      await lxcfs.start();
      const containers = new Containers({ paths, cgroups, templates, shim: shimPath(), log, events, backoff, unshare: await findProgram('unshare'), network, defaultNetwork, defaultUserns, lxcfs });
      await containers.init();
      await lxcfs.attach(containers);
      const exec = new ExecSessions(containers, shimPath(), log);
      const peercred = loadPeerCred();
      const group = opts.group ? { name: opts.group, gid: await groupId(opts.group) } : undefined;
      const server = await listen(buildRouter({ paths, containers, exec, templates, log, events }), socketPath(paths), log, { peercred, ...(group ? { group } : {}) });
      log.info('corrald listening', { socket: socketPath(paths), pid: process.pid, cgroupDriver: cgroups.driver });
      const shutdown = (sig: string): void => {
        log.info('corrald stopping; containers keep running', { signal: sig });
        containers.close();
        server.close();
        server.closeAllConnections();
        void containers
          .release()
          .then(() => lxcfs.close())
          .catch((err: unknown) => log.warn('clean-up at stop failed', { err: String(err) }))
          .finally(() => void release().finally(() => process.exit(0)));
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGHUP', () => {});
    } catch (err) {
      await release();
      throw err;
    }
  });

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`corrald: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
