package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"time"
)

// Alertmanager's webhook payload (version 4). Labels name the alert and
// stay the same for every notification of one monitor × node × item and
// rule, so its fingerprint does; groupKey and the mamori_key annotation
// are the notification's key, the same on a repeat.
type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

func alertmanagerPayload(v Vars, host string) amPayload {
	name := v.Monitor
	if v.EventKind != "" {
		name = v.EventKind
	}
	severity, status, ends := v.Priority, "firing", "0001-01-01T00:00:00Z"
	if v.Kind == KindRecovery {
		// The same labels as the problem it resolves.
		severity, status, ends = v.Previous, "resolved", v.At
	}
	labels := map[string]string{"alertname": name, "mamori_node": v.Node, "mamori_rule": v.Rule, "severity": severity}
	if v.Item != "" {
		labels["mamori_item"] = v.Item
	}
	ann := map[string]string{"summary": v.Title, "description": v.Message, "mamori_key": v.Key, "mamori_kind": v.Kind}
	if v.Value != "" {
		ann["value"] = v.Value
	}
	alert := amAlert{Status: status, Labels: labels, Annotations: ann, StartsAt: v.At, EndsAt: ends, Fingerprint: fingerprint(labels)}
	return amPayload{Version: "4", GroupKey: v.Key, Status: status, Receiver: "mamori@" + host, GroupLabels: map[string]string{"alertname": name},
		CommonLabels: labels, CommonAnnotations: ann, Alerts: []amAlert{alert}}
}

// fingerprint is a stable hash of the labels (sorted by name).
func fingerprint(labels map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// PagerDuty Events API v2. dedup_key is the notification's key, so a
// repeat collapses; a recovery resolves the problem it closes (its key).
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
}

type pdPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details"`
}

func pagerDutyPayload(v Vars, routingKey string) pdEvent {
	if v.Kind == KindRecovery && v.Resolves != "" {
		return pdEvent{RoutingKey: routingKey, EventAction: "resolve", DedupKey: v.Resolves}
	}
	sev := map[string]string{"critical": "critical", "unknown": "error", "warning": "warning", "info": "info"}[v.Priority]
	if sev == "" {
		sev = "error"
	}
	source := v.NodeName
	if source == "" {
		source = v.Node
	}
	if source == "" {
		source = "mamori"
	}
	ts := v.At
	if t, err := time.Parse(time.RFC3339, v.At); err == nil {
		ts = t.UTC().Format(time.RFC3339)
	}
	return pdEvent{RoutingKey: routingKey, EventAction: "trigger", DedupKey: v.Key, Payload: &pdPayload{
		Summary: v.Title, Source: source, Severity: sev, Timestamp: ts, Component: v.Monitor, Group: v.Scope, Class: v.Item,
		CustomDetails: map[string]string{"message": v.Message, "value": v.Value, "rule": v.Rule, "kind": v.Kind, "previous": v.Previous}}}
}
