import { randomBytes } from 'node:crypto';
import type { ContainerConfig, CreateRequest } from '../../api/types.js';
import { parseStorageOpt } from '../../storage/size.js';
import { ValidationError } from '../../errors.js';
import { crashPoint } from '../../util/crash.js';
import { writeEtcFiles } from '../etc-files.js';
import { countCpuPins, limitsFromFlags, readHostResources } from '../limits.js';
import { seccompCacheDir } from '../../config.js';
import { writeSeccompFiles } from '../../security/seccomp.js';
import { configFromRequest, seccompFromRequest } from '../spec.js';
import type { Runtime } from './context.js';
import { normalizeStopSignal } from '../stop-signal.js';

/** An image's StopSignal that this host cannot send is left out (stop then sends SIGTERM). */
function usableStopSignal(s: string | undefined): boolean {
  if (!s) return false;
  try {
    normalizeStopSignal(s);
    return true;
  } catch {
    return false;
  }
}

/** Containers pinned per CPU, from every container's config; none where cpusets cannot be set. */
export function cpuPinsOf(rt: Runtime, except?: string): number[] | undefined {
  if (rt.deps.cgroups.controllers().missing.includes('cpuset')) return undefined;
  const cpusets = rt.index.all().filter((c) => c.id !== except).map((c) => c.limits.cpuset?.cpus);
  return countCpuPins(cpusets, rt.host!.cpus);
}

/** What a restore or a clone adds to a create: the id chosen (its id range held) and the layer filled. */
export interface CreateHooks {
  id?: string;
  /** Runs after the container's files are made and before its config is committed. */
  fill?: (config: ContainerConfig) => Promise<void>;
}

/**
 * Validate a request completely, then make the container's directory and commit its config. A
 * create cut short (an error, a crash) leaves a `.creating` marker that recovery removes.
 */
export async function createContainer(rt: Runtime, request: unknown, hooks: CreateHooks = {}): Promise<ContainerConfig> {
  const templateName = (request as { template?: unknown } | null)?.template;
  // Validate everything that does not need the template first, so bad input fails fast.
  const defaults = { defaultNetwork: [rt.deps.defaultNetwork ?? 'bridge'], defaultUserns: rt.deps.defaultUserns ?? 'private' };
  configFromRequest(request, undefined, undefined, defaults);
  const template = await rt.deps.templates.resolve(String(templateName));
  const config = configFromRequest(request, template.env, template.command, {
    ...defaults,
    ...(template.entrypoint ? { entrypoint: template.entrypoint } : {}),
    ...(template.workdir ? { workdir: template.workdir } : {}),
    ...(template.user ? { user: template.user } : {}),
    ...(usableStopSignal(template.stopSignal) ? { stopSignal: template.stopSignal } : {}),
  });
  if (hooks.id !== undefined) config.id = hooks.id;
  const { oomScoreAdj: _adj, ...flags } = config.limitRequest;
  rt.host ??= await readHostResources();
  config.limits = await limitsFromFlags(flags, rt.host, { cpuPins: cpuPinsOf(rt) });
  const disk = parseStorageOpt((request as CreateRequest).storageOpt);
  if (disk) config.storage = { backend: await rt.disks.backend(), sizeBytes: disk.sizeBytes };
  if (config.network.mode !== 'none' && !rt.net) throw new ValidationError(`--network ${config.network.mode}: networking is not available in this corrald`);
  const seccomp = seccompFromRequest(request as Partial<CreateRequest>, config.capabilities);
  // Anonymous volumes get their random names now, so their locks can be taken with the others'.
  const named = config.volumes.filter((v) => v.type === 'volume');
  for (const v of named) if (!v.name) v.name = randomBytes(32).toString('hex');
  const commit = async (): Promise<void> => {
    // Networks, addresses and host ports are checked before anything is made.
    await rt.net?.validate(config);
    rt.index.reserve(config.name, config.id);
    try {
      // The range is the container's from here to rm (a create cut short gives it back).
      if (config.userns.mode === 'private') config.userns = { mode: 'private', ...(await rt.idmap.allocate(config.id)) };
      await rt.store.prepare(config);
      crashPoint('create:prepared');
      for (const v of named) {
        v.source = await rt.volumes.ensure(v.name!);
        // Docker's rule: an empty volume gets what the template has at its mount point.
        await rt.volumes.fillFromTemplate(v.name!, template.layers, v.target, rt.store.layout(config.id, config).mountpoint);
      }
      await writeSeccompFiles(rt.store.dir(config.id), seccomp, {
        compile: (flat, out) => rt.processes.compileSeccomp(rt.deps.shim, flat, out),
        cacheDir: seccompCacheDir(rt.deps.paths),
      });
      await writeEtcFiles(rt.store, config);
      crashPoint('create:etc-written');
      if (config.storage) await rt.disks.create(rt.store.dir(config.id), config.storage);
      await hooks.fill?.(config);
      await rt.store.commit(config);
      crashPoint('create:committed');
      rt.index.add(config);
    } catch (err) {
      rt.index.release(config.name, config.id);
      await rt.store.destroy(config.id).catch(() => {});
      await rt.idmap.release(config.id).catch(() => {});
      throw err;
    }
  };
  // A user-defined network cannot be removed between the check and the commit.
  // A volume is not removed between its use here and the commit (rm checks the index under its lock).
  const withVolumes = (): Promise<void> => rt.volumes.locked(named.map((v) => v.name!), commit);
  if (rt.net && config.network.networks.some((e) => e.network !== 'bridge')) await rt.net.locked(withVolumes);
  else await withVolumes();
  rt.log.info('container created', { id: config.id, name: config.name });
  rt.deps.events?.record('create', config, { template: config.template });
  return config;
}
