// Types of the public REST API's requests and answers.
//
// Generated: `make openapi` writes types.gen.ts from the OpenAPI document
// the appliance serves at /api/v1/openapi.json (api/openapi_routes.go names
// each route's Go types). This file only re-exports them, under the names
// the console has always imported, so screens do not change when the
// generator does. Do not write API types here by hand: declare the route's
// types in api/openapi_routes.go and run `make openapi`.

export type * from './types.gen';
export type {
  /** Every error answer: a message for people and a code for programs. */
  ErrorAnswer as ErrorBody,
} from './types.gen';

import type { Routes } from './types.gen';

/** A route's answer, e.g. `Answer<'GET /api/v1/me'>` (the generated `Routes`). */
export type Answer<R extends keyof Routes> = Routes[R]['answer'];
/** A route's request body. */
export type Body<R extends keyof Routes> = Routes[R]['body'];
/** A route's query parameters. */
export type Query<R extends keyof Routes> = Routes[R]['query'];

/** The event list's filters and paging (GET /api/v1/events). */
export type EventQuery = Query<'GET /api/v1/events'>;
/** The body of a state change by ids or by filter. */
export type StateChange = Body<'POST /api/v1/events/state'>;

/** A list answer the appliance cut: `next` is the query string of the next page. */
export interface Paged {
  more?: boolean;
  next?: string;
}

// Names the screens use for generated types.
export type {
  CustomEventList as CustomList,
  Rule as MonitorRule,
  Node as InventoryNode,
  SNMP as NodeSNMP,
  RoleDefinition as AccessRole,
  TOTPEnrolment as TotpEnrolment,
} from './types.gen';
