import type { ContainerConfig, CreateRequest } from '../../api/types.js';
import { formatRestartPolicy } from '../restart-policy.js';

/**
 * The create request that gives back `c`'s config (but its id, times and id range): a restore or a
 * clone recreates a container through the one validated path, create, rather than trusting a
 * config.json from an archive. The program is given as it ran (`entrypoint: []` + the full argv),
 * and env, workdir and user explicitly, so the template's defaults of the day change nothing.
 * `seccompProfile`: the text of a custom profile (the container's seccomp.json).
 */
export function requestFromConfig(c: ContainerConfig, seccompProfile: string | null = null): CreateRequest {
  const r: CreateRequest = {
    name: c.name,
    template: c.template,
    command: [...c.command],
    entrypoint: [],
    env: [...c.env],
    workdir: c.workdir,
    user: c.user,
    hostname: c.hostname,
    readOnly: c.readOnly,
    volumes: c.volumes.map((v) => ({ ...v })),
    userns: c.userns.mode,
    // Docker's rule (start from its default set) undone: drop everything, add back what it had.
    capDrop: ['ALL'],
    capAdd: [...c.capabilities],
    init: c.init,
    tty: c.tty,
    interactive: c.interactive,
    autoRemove: c.autoRemove,
    labels: { ...c.labels },
    limits: { ...c.limitRequest },
    ignoreMissingLimits: c.ignoreMissingLimits,
    restart: formatRestartPolicy(c.restartPolicy),
    network: c.network.mode === 'bridge' ? c.network.networks.map((n) => n.network) : [c.network.mode],
  };
  if (c.healthcheck) {
    const h = c.healthcheck;
    r.healthcheck = { test: [...h.test], interval: `${h.intervalMs}ms`, timeout: `${h.timeoutMs}ms`, retries: h.retries, startPeriod: `${h.startPeriodMs}ms`, onFailure: h.onFailure };
  }
  const first = c.network.networks[0];
  if (first?.ip) r.ip = first.ip;
  if (first && first.aliases.length > 0) r.networkAliases = [...first.aliases];
  if (c.network.ports.length > 0) r.publish = c.network.ports.map((p) => `${p.hostIp}:${p.hostPort}:${p.containerPort}/${p.protocol}`);
  if (c.network.publishAll) r.publishAll = true;
  if (c.network.expose.length > 0) r.expose = c.network.expose.map((e) => `${e.port}/${e.protocol}`);
  if (c.network.dns.length > 0) r.dns = [...c.network.dns];
  if (c.storage) r.storageOpt = { size: String(c.storage.sizeBytes) };
  if (c.seccomp.profile === 'unconfined') r.securityOpt = ['seccomp=unconfined'];
  else if (c.seccomp.profile === 'custom' && seccompProfile !== null) {
    r.securityOpt = [`seccomp=${seccompProfile}`];
    if (c.seccomp.source !== null) r.seccompSource = c.seccomp.source;
  }
  return r;
}
