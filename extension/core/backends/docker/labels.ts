// The labels on every engine object the workbench makes: how `down` and `doctor` find exactly a testbed's objects,
// and how the event stream is narrowed to them, whatever happened to the CLI or the state file.
export const LABELS = {
  /** The testbed's name. */
  testbed: 'dev.hypershield.testbed',
  /** The workspace folder that owns it. */
  owner: 'dev.hypershield.owner',
  role: 'dev.hypershield.role',
  /** Images: the recipe they were built from and its content hash. */
  recipe: 'dev.hypershield.recipe',
  recipeHash: 'dev.hypershield.recipe-hash',
} as const;

/** Label filters that match one testbed's objects of one owner. */
export function ownedBy(testbed: string, owner: string): string[] {
  return [`${LABELS.testbed}=${testbed}`, `${LABELS.owner}=${owner}`];
}
