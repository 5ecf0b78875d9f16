/**
 * Thrown when a data set a task needs is not installed or not readable. The message
 * names the data set, the path it looked at and the command that installs it.
 */
export class DatasetMissingError extends Error {
  readonly dataset: string;
  readonly path: string;

  constructor(dataset: string, path: string, hint: string, cause?: unknown) {
    super(`Data set "${dataset}" not found or unreadable at ${path}. ${hint}`, cause === undefined ? undefined : { cause });
    this.name = 'DatasetMissingError';
    this.dataset = dataset;
    this.path = path;
  }
}
