// Types of @klimaspejl/client. The response shapes come from src/schema.d.ts, which openapi-typescript generates from
// api-spec/openapi.yaml (`npm run generate`); this file only describes the hand-written methods around them.
import type { components, operations, paths } from './src/schema.js';

export type { components, operations, paths };

type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type ProblemType = Problem['type'];
export type OAuthErrorBody = Schemas['OAuthError'];
export type DatasetList = Schemas['DatasetList'];
export type DatasetSummary = Schemas['DatasetSummary'];
export type Dataset = Schemas['Dataset'];
export type TableSchema = Schemas['TableSchema'];
export type Row = Schemas['Row'];
export type RecordsPage = Schemas['RecordsPage'];
export type RecordsFeatureCollection = Schemas['RecordsFeatureCollection'];
export type DataPackage = Schemas['DataPackage'];
export type CatalogJsonLd = Schemas['CatalogJsonLd'];
export type EmissionFactors = Schemas['EmissionFactors'];
export type EmissionFactor = Schemas['EmissionFactor'];
export type UsageRow = Schemas['UsageRow'];
export type FeedbackInput = Schemas['FeedbackInput'];
export type FeedbackReceipt = Schemas['FeedbackReceipt'];
export type FeedbackStats = Schemas['FeedbackStats'];
export type MySummary = Schemas['MySummary'];
export type MySeries = Schemas['MySeries'];
export type Consent = Schemas['Consent'];
export type MyHistory = Schemas['MyHistory'];
export type RegisteredClient = Schemas['RegisteredClient'];

/** RFC 7591 client metadata for `register()`. */
export interface RegisterOptions extends CallOptions {
    /** The app's name as citizens see it on the consent screen (1-100 characters). */
    clientName: string;
    /** https://..., http://localhost... (or a loopback address), or a native app's private-use scheme (com.example.app:/cb). */
    redirectUris: readonly string[];
    /** `none` for a public app (browser, mobile); a confidential app gets a client_secret. Default client_secret_basic. */
    tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post';
    /** Personal scopes the app will ask citizens for; leave out for open data (then the app is active at once). */
    scope?: string | readonly string[];
    /** Up to 5 e-mail addresses the city may contact about the app. */
    contacts?: readonly string[];
}
export type TokenResponse = Schemas['TokenResponse'];
export type Jwks = Schemas['Jwks'];
export type Health = Schemas['Health'];
export type Readiness = Schemas['Readiness'];
export type OAuthMetadata = operations['getOAuthMetadata']['responses'][200]['content']['application/json'];

export type Lang = 'da' | 'en';
export type Scope = 'summary:read' | 'energy:read' | 'waste:read' | 'mobility:read' | 'export:read' | 'consents:manage';
export type FilterOperator = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'between';
type FilterValue = string | number | boolean;
/** `{ column: 'op:value' }`; an array filters one column more than once (ANDed). A bare value means `eq`. */
export type Filters = Record<string, FilterValue | readonly FilterValue[]>;
export type Measure = 'count' | `${'sum' | 'avg' | 'min' | 'max'}:${string}`;

export interface CallOptions {
    signal?: AbortSignal;
}

export interface RecordsQuery {
    filters?: Filters;
    /** Group columns (at most 6): an array or a comma-separated string. */
    groupBy?: string | readonly string[];
    /** `count`, `sum:col`, `avg:col`, `min:col`, `max:col` (at most 12). */
    measures?: Measure | string | readonly (Measure | string)[];
    /** Columns to sort by; a `-` prefix sorts descending. */
    order?: string | readonly string[];
    /** Rows per page, 1..10000 (server default 100). */
    limit?: number;
    /** `next_cursor` of the previous page. */
    cursor?: string | null;
    bucket?: 'hour' | 'day' | 'week' | 'month' | 'year';
    /** IANA time zone for `bucket` (default Europe/Copenhagen). */
    tz?: string;
    format?: 'json' | 'csv' | 'ndjson' | 'geojson';
    delimiter?: ',' | ';' | 'tab';
    bom?: boolean | '0' | '1' | 'true' | 'false';
    lang?: Lang;
}

export interface DownloadQuery {
    format?: 'csv' | 'ndjson';
    filters?: Filters;
    order?: string | readonly string[];
    delimiter?: ',' | ';' | 'tab';
    bom?: boolean | '0' | '1' | 'true' | 'false';
}

export interface SeriesQuery {
    /** A date (`2025-01-01`, local midnight in `tz`) or an instant with `Z`/offset. */
    from: string;
    to: string;
    resolution?: 'hour' | 'day' | 'month';
    tz?: string;
    format?: 'json' | 'csv';
    signal?: AbortSignal;
}

export interface LangOptions extends CallOptions {
    lang?: Lang;
}

export interface RetryInfo {
    attempt: number;
    status: number;
    waitSeconds: number;
    method: string;
    url: string;
}

export interface KlimaspejlClientOptions {
    /** The API origin (and path prefix, if any). Default http://localhost:8080. */
    baseUrl?: string;
    /** A consent token (JWT) for /v1/me/*, or a function returning the current one. */
    token?: string | (() => string | undefined | Promise<string | undefined>);
    /** fetch implementation (default globalThis.fetch). */
    fetch?: typeof fetch;
    /** User-Agent sent from Node (browsers send their own). */
    userAgent?: string;
    /** Retries after 429 / 503 (default 3; 0 disables). */
    maxRetries?: number;
    /** Longest single wait in seconds, whatever Retry-After says (default 60). */
    maxRetryDelay?: number;
    /** Remember ETag'd GET answers and revalidate them with If-None-Match (default true). */
    etagCache?: boolean;
    /** How many answers the ETag cache keeps (default 256, least recently used dropped). */
    etagCacheSize?: number;
    /** Default language of the metadata routes and the summary. */
    lang?: Lang;
    /** Extra headers on every request. */
    headers?: Record<string, string>;
    /** Called before each wait for a retry. */
    onRetry?: (info: RetryInfo) => void;
}

export interface AuthorizeUrlOptions {
    clientId: string;
    redirectUri: string;
    scope: Scope | string | readonly (Scope | string)[];
    state?: string;
    /** From createPkcePair(). */
    codeChallenge: string;
    lang?: Lang;
}

export interface ExchangeCodeOptions extends CallOptions {
    clientId: string;
    code: string;
    redirectUri: string;
    codeVerifier: string;
    /** Confidential clients only (sent as client_secret_post). */
    clientSecret?: string;
}

export interface RefreshOptions extends CallOptions {
    clientId: string;
    refreshToken: string;
    clientSecret?: string;
}

export interface RevokeOptions extends CallOptions {
    token: string;
    clientId: string;
    tokenTypeHint?: 'refresh_token' | 'access_token';
    clientSecret?: string;
}

export interface ExportLine {
    kind: 'household' | 'energy' | 'waste' | 'mobility';
    record: Record<string, unknown>;
}

export declare const VERSION: string;

export declare class KlimaspejlClient {
    constructor(options?: KlimaspejlClientOptions);
    readonly baseUrl: string;
    maxRetries: number;
    maxRetryDelay: number;
    lang: Lang | undefined;
    setToken(token: KlimaspejlClientOptions['token']): void;
    clearCache(): void;

    health(options?: CallOptions): Promise<Health>;
    ready(options?: CallOptions): Promise<Readiness>;

    listDatasets(options?: LangOptions): Promise<DatasetList>;
    getDataset(id: string, options?: LangOptions): Promise<Dataset>;
    dataPackage(id: string, options?: LangOptions): Promise<DataPackage>;
    catalog(options?: CallOptions): Promise<CatalogJsonLd>;

    records(id: string, query?: RecordsQuery & { format?: 'json' }, options?: CallOptions): Promise<RecordsPage>;
    records(id: string, query: RecordsQuery & { format: 'geojson' }, options?: CallOptions): Promise<RecordsFeatureCollection>;
    records(id: string, query: RecordsQuery & { format: 'csv' | 'ndjson' }, options?: CallOptions): Promise<string>;
    recordsPages(id: string, query?: RecordsQuery & { format?: 'json' }, options?: CallOptions): AsyncGenerator<RecordsPage, void, undefined>;
    recordsAll(id: string, query?: RecordsQuery & { format?: 'json' }, options?: CallOptions): AsyncGenerator<Row, void, undefined>;
    download(id: string, query?: DownloadQuery, options?: CallOptions): Promise<ReadableStream<Uint8Array>>;
    downloadRows(id: string, query?: Omit<DownloadQuery, 'format' | 'delimiter' | 'bom'>, options?: CallOptions): AsyncGenerator<Row, void, undefined>;

    emissionFactors(options?: LangOptions): Promise<EmissionFactors>;
    usage(options?: CallOptions & { from?: string; to?: string; dataset?: string }): Promise<UsageRow[]>;
    feedback(input: FeedbackInput, options?: CallOptions): Promise<FeedbackReceipt>;
    feedbackStats(options?: CallOptions): Promise<FeedbackStats>;

    summary(options?: CallOptions & { month?: string; lang?: Lang }): Promise<MySummary>;
    history(options?: CallOptions & { from?: string; to?: string }): Promise<MyHistory>;
    energy(query: SeriesQuery & { format?: 'json' }, options?: CallOptions): Promise<MySeries>;
    energy(query: SeriesQuery & { format: 'csv' }, options?: CallOptions): Promise<string>;
    waste(query: SeriesQuery & { format?: 'json' }, options?: CallOptions): Promise<MySeries>;
    waste(query: SeriesQuery & { format: 'csv' }, options?: CallOptions): Promise<string>;
    mobility(query: SeriesQuery & { format?: 'json' }, options?: CallOptions): Promise<MySeries>;
    mobility(query: SeriesQuery & { format: 'csv' }, options?: CallOptions): Promise<string>;
    consents(options?: CallOptions): Promise<Consent[]>;
    revokeConsent(id: string, options?: CallOptions): Promise<void>;
    exportData(options?: CallOptions): Promise<ReadableStream<Uint8Array>>;
    exportRecords(options?: CallOptions): AsyncGenerator<ExportLine, void, undefined>;

    oauthMetadata(options?: CallOptions): Promise<OAuthMetadata>;
    jwks(options?: CallOptions): Promise<Jwks>;
    register(options: RegisterOptions): Promise<RegisteredClient>;
    authorizeUrl(options: AuthorizeUrlOptions): string;
    exchangeCode(options: ExchangeCodeOptions): Promise<TokenResponse>;
    refresh(options: RefreshOptions): Promise<TokenResponse>;
    revoke(options: RevokeOptions): Promise<void>;
}

export interface KlimaspejlErrorInit {
    status: number;
    type?: string;
    title?: string;
    detail?: string;
    instance?: string;
    parameter?: string;
    error?: string;
    errorDescription?: string;
    retryAfter?: number | null;
    url?: string;
    method?: string;
    headers?: Headers;
    body?: unknown;
}

/** A non-success answer: the RFC 9457 problem fields, or the RFC 6749 error of the OAuth endpoints. */
export declare class KlimaspejlError extends Error {
    constructor(init: KlimaspejlErrorInit);
    readonly name: 'KlimaspejlError';
    status: number;
    /** Problem type, e.g. `/docs/problems#invalid-parameter`. */
    type: ProblemType | string | undefined;
    title: string | undefined;
    detail: string | undefined;
    instance: string | undefined;
    /** The request parameter at fault (`district_id`, `cursor`, `month`, ...), when the server names one. */
    parameter: string | undefined;
    /** RFC 6749 `error` of /oauth/token and /oauth/revoke (`invalid_grant`, ...), or of a redirect. */
    error: string | undefined;
    errorDescription: string | undefined;
    /** Seconds from Retry-After, when the answer had one. */
    retryAfter: number | null;
    url: string | undefined;
    method: string | undefined;
    headers: Headers | undefined;
    /** The parsed error body (or its text). */
    body: unknown;
    /** The part of `type` after `#`: `invalid-parameter`, `gone`, `too-many-requests`, ... */
    readonly kind: string | undefined;
}

export declare function parseRetryAfter(value: string | null | undefined, now?: number): number | null;
export declare function parseRedirect(url: string | URL, expectedState?: string): { code: string; state: string | null };
export declare function readNdjson<T = unknown>(stream: ReadableStream<Uint8Array>): AsyncGenerator<T, void, undefined>;
export declare function recordsSearchParams(query?: RecordsQuery): URLSearchParams;

export interface PkcePair {
    codeVerifier: string;
    codeChallenge: string;
    codeChallengeMethod: 'S256';
}
export declare function createPkcePair(): Promise<PkcePair>;
export declare function pkceChallenge(verifier: string): Promise<string>;
export declare function createState(): Promise<string>;
export declare function randomString(bytes?: number): Promise<string>;
export declare function base64url(bytes: ArrayBuffer | Uint8Array): string;
