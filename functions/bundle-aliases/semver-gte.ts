/**
 * What the Lambda bundles have in place of `semver` (`BUNDLE_OPTIONS.alias` in `lib/function.ts`). Its one importer in
 * a bundle is the X-Ray SDK's patcher of the AWS SDK v2 (`aws-xray-sdk-core/dist/lib/patchers/aws_p.js`), which the
 * X-Ray SDK loads with its entry and which calls `semver.gte` only to check the version of an SDK v2 it is handed; the
 * Powertools tracer patches v3 clients, so that is never called. The whole of semver is about 28 KB in every bundle.
 * The bundle tests check that nothing else in a bundle imports semver.
 */

/** `major.minor.patch` with an optional pre-release or build suffix, as an SDK's `VERSION` is written. */
const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/;

function parts(version: string): [number, number, number] {
  const match = VERSION.exec(String(version).trim());
  if (!match) throw new TypeError(`Invalid Version: ${version}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Whether `version` is at least `minimum`, by major, minor and patch (pre-release tags are not compared). */
export function gte(version: string, minimum: string): boolean {
  const [a, b] = [parts(version), parts(minimum)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}
