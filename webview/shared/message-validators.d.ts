// Validators compiled from schemas/webview-messages.schema.json at build time (scripts/build.mjs).
declare module 'hypershield:message-validators' {
  interface Validate {
    (data: unknown): boolean;
    errors?: Array<{ instancePath: string; message?: string }> | null;
  }
  export const webviewMessage: Validate;
  export const hostMessage: Validate;
  export const persistedState: Validate;
}
