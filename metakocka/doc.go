// Package metakocka is a typed, retrying client for the Metakocka ERP REST API
// (https://main.metakocka.si/rest/eshop/v1/...): partners, products and sales
// documents, and the search that drives incremental pulls.
//
// Every call is a JSON POST carrying company_id and secret_key. The client
//   - encodes numbers and booleans as Metakocka does (strings) and decodes
//     every form Metakocka sends (strings with a decimal dot or comma, plain
//     JSON numbers and booleans, single objects where lists are expected),
//     with money and quantities as exact decimals (Decimal, Bool, Int, List);
//   - classifies every failure in one function into an *Error with an mksync
//     error code and a Retryable flag;
//   - retries retryable failures with exponential backoff and full jitter,
//     honouring Retry-After, but repeats a create only when Metakocka provably
//     did not process it, so that retries never duplicate records;
//   - paces requests per company (rate limit, maximum in flight, searches one
//     at a time) through a Pacer shared by all Clients of the process;
//   - never writes the secret key into an error or a log line.
package metakocka
