/** The server-side secret that signs list cursors. Secrets Manager in AWS, an env value locally. */
export interface SecretSource {
  signingSecret(): Promise<string>;
}
