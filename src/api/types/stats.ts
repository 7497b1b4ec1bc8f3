/** Usage read back from the kernel; a section is absent when its controller is. */
export interface CgroupStats {
  cpu?: { usageNs: number };
  memory?: {
    usageBytes: number;
    /** null when unlimited. */
    limitBytes: number | null;
    /** OOM kills in the container (v2 memory.events oom_kill; v1 memory.oom_control oom_kill). */
    oomKills: number;
    /** Times the limit was hit (v2 memory.events max; v1 memory.failcnt). */
    limitHits: number;
  };
  pids?: { current: number; limit: number | null };
  io?: { readBytes: number; writeBytes: number };
}

/** GET /v1/containers/{ref}/stats: raw counters read from the kernel at `time`. */
export interface StatsSample {
  id: string;
  name: string;
  time: string;
  cgroup: CgroupStats;
  /** Bytes received and sent on the container's interfaces other than lo. */
  network: { rxBytes: number; txBytes: number };
  /** Online CPUs of the host, for CPU %. */
  onlineCpus: number;
}
