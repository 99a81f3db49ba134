// The notification calls (issue 12, notify): channels, rules, the test
// send and the notification log. Kept apart from index.ts so that the
// parts of issue 12 do not edit one list.

import { client } from './index';
import type { NotifyChannel, NotifyChannelList, NotifyDeleted, NotifyLog, NotifyRule, NotifyRuleList, NotifyTestResult } from './types';

type Opts = { signal?: AbortSignal };
const enc = encodeURIComponent;

export const notifyApi = {
  channels: (o: Opts = {}) => client.get<NotifyChannelList>('/api/v1/notify/channels', o),
  putChannel: (c: NotifyChannel) => client.post<NotifyChannel>('/api/v1/notify/channels', c),
  deleteChannel: (id: string) => client.delete<NotifyDeleted>(`/api/v1/notify/channels/${enc(id)}`),
  /** Sends at once through the channel as given (saved or not); never retried (a retry would send twice). */
  testChannel: (c: NotifyChannel) => client.post<NotifyTestResult>('/api/v1/notify/channels/test', c, { retry: false }),
  rules: (o: Opts = {}) => client.get<NotifyRuleList>('/api/v1/notify/rules', o),
  putRule: (r: NotifyRule) => client.post<NotifyRule>('/api/v1/notify/rules', r),
  deleteRule: (id: string) => client.delete<NotifyDeleted>(`/api/v1/notify/rules/${enc(id)}`),
  log: (q: { status?: string; before?: number; limit?: number }, o: Opts = {}) =>
    client.get<NotifyLog>('/api/v1/notify/log', { ...o, query: q }),
};
