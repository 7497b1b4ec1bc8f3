export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface VersionInfo {
  version: string;
  apiVersion: string;
  pid: number;
  dataRoot: string;
  runRoot: string;
  cgroupDriver: 'v1' | 'v2';
  cgroupParent: string;
  /** Names of this installation's bridges and nftables tables, `<prefix><n>`. */
  bridgePrefix: string;
  /** The user namespace of containers created without `--userns` (`corrald --default-userns`); absent from older daemons. */
  defaultUserns?: 'private' | 'host';
}
