// Imported first by `npm start`: settings that must be in place before any module creates its logger or SDK client.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_DEV ??= 'false';
// CloudWatch embedded metrics mean nothing on this machine.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// Nor does X-Ray: Powertools already traces only inside Lambda, and this keeps it off wherever the tests run.
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
// With tracing off, the X-Ray SDK's automatic mode (its default) only costs: on import it hooks every promise and
// async resource of the process (cls-hooked's async hooks, with destroy tracking) to carry segments nobody records.
if (process.env.POWERTOOLS_TRACE_ENABLED === 'false') process.env.AWS_XRAY_MANUAL_MODE ??= 'true';
