/**
 * The top of the reference page (`info.description`, Markdown): what a client developer needs before the first
 * operation — a token, a first call, and the conventions every operation shares.
 */
export const GETTING_STARTED = `Client management and billing for hosting and service companies.

# Getting started

## Get a token

Every operation except the public ones needs a bearer token. Exchange a username and password for one with
\`POST /v1/auth/token\` (operators omit \`companyId\`):

\`\`\`sh
curl -s http://127.0.0.1:3000/v1/auth/token -H 'Content-Type: application/json' \\
  -d '{"companyId":"co_…","username":"…","password":"…"}'
# {"token":"eyJ…","expiresIn":3600}
\`\`\`

A token expires after an hour (\`expiresIn\` is in seconds): ask for a new one then. On the local stack (\`npm start\`)
the seeded company's id, staff login and ready-made tokens are in \`.billow/local.json\` (\`apiUrl\`, \`companyId\`,
\`staffUsername\`, \`staffPassword\`, \`staffToken\`, \`operatorToken\`); \`npm start\` writes fresh tokens each time.

## Make a first call

Send the token in the \`Authorization\` header; request bodies are JSON (\`Content-Type: application/json\`):

\`\`\`sh
TOKEN=$(node -p "require('./.billow/local.json').staffToken")
curl -s http://127.0.0.1:3000/v1/clients -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  -d '{"company":"Acme Hosting","email":"ops@acme.test"}'
curl -s "http://127.0.0.1:3000/v1/clients?q=acm" -H "Authorization: Bearer $TOKEN"
\`\`\`

Every response carries an \`x-request-id\` header; quote it when reporting a problem.

## Idempotency

Every \`POST\` accepts an \`Idempotency-Key\` header (1–255 characters, scoped to the company). The same key with the
same method, path and body within 24 hours replays the first answer (same status and body) without acting again, so
a request whose answer was lost (a timeout, a dropped connection) is safe to send again. The same key with another
request is a 422; while the first request with that key is still running, a 409.

\`\`\`sh
curl -s http://127.0.0.1:3000/v1/clients/cl_…/payments -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' -H 'Idempotency-Key: 6f1c2e0a-pay-1' \\
  -d '{"source":{"paymentAccountId":"pa_…"},"currency":"USD","apply":[{"invoiceId":"inv_…","amount":1050}]}'
\`\`\`

A \`PATCH\` or \`PUT\` accepts \`If-Match: <version>\` (the object's \`version\` as read): a stale one is a 409
\`stale_version\` and nothing changes.

## Pagination

Lists answer \`{ "data": [...], "nextCursor": "<opaque>" | null }\`. \`limit\` takes 1–100 items (25 by default). To read
on, pass \`nextCursor\` back as \`cursor\` with the same filters until it is \`null\`:
\`GET /v1/clients?limit=50&cursor=<nextCursor>\`. A cursor is bound to its list, filters and company: an altered or
foreign one is a 400.

## Errors

Whatever did not succeed is an RFC 9457 problem document (\`Content-Type: application/problem+json\`): \`status\`,
\`title\`, \`detail\` for a person and \`code\` for a program (\`not_found\`, \`stale_version\`, \`payment_declined\`…). A 400
lists each wrong field in \`errors\`, by its dotted path in the request:

\`\`\`json
{ "type": "https://billow.dev/problems/validation-error", "title": "Invalid request", "status": 400,
  "code": "validation_error", "detail": "lines.0.quantity: Must be a number, a decimal string such as \\"1.5\\" or a fraction such as \\"55/60\\".",
  "errors": [{ "path": "lines.0.quantity",
    "message": "Must be a number, a decimal string such as \\"1.5\\" or a fraction such as \\"55/60\\"." }] }
\`\`\`

Unknown JSON fields are a 400 too. A 429 or 503 says how long to wait in \`Retry-After\`; a 5xx carries a \`requestId\`.
Each operation below lists the problems it can answer with.

## Money and quantities

Money is an integer count of the currency's minor units, always next to an ISO 4217 \`currency\`: USD \`1050\` is
$10.50, JPY has no decimals, BHD three. There is no floating point anywhere in money.

A line's \`quantity\` is a number, a decimal string (\`"1.5"\`) or an exact fraction (\`"55/60"\`: 55 minutes billed by
the hour), negative for a discount, and is echoed back exactly as given. The line's \`amount\` is
\`quantity × unitAmount\`, rounded once, half away from zero, to a whole minor unit.
`;
