export interface TemplateInfo {
  name: string;
  path: string;
  builtAt: string | null;
  sizeBytes: number | null;
  /** Whether it has been built yet; templates build on first use. */
  built: boolean;
  description: string;
}
