{{/* The release's name, short enough for every object name. */}}
{{- define "pokor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the pods: the same in the Deployment, Service, PDB and ServiceMonitor. */}}
{{- define "pokor.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pokor.labels" -}}
{{ include "pokor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The Secret the pods read: the operator's, or the one this chart makes from .Values.secrets. */}}
{{- define "pokor.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- include "pokor.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* Refuse configurations that cannot work, with the value to change. */}}
{{- define "pokor.validate" -}}
{{- if and (not .Values.existingSecret) (not .Values.secrets.POKOR_SECRET_KEY) -}}
{{- fail "set existingSecret to the name of a Secret holding POKOR_SECRET_KEY (and POKOR_DATABASE_URL, POKOR_REDIS_URL), or secrets.POKOR_SECRET_KEY (openssl rand -hex 32)" -}}
{{- end -}}
{{- if and .Values.secrets.POKOR_SECRET_KEY (lt (len .Values.secrets.POKOR_SECRET_KEY) 32) -}}
{{- fail "secrets.POKOR_SECRET_KEY must be at least 32 characters (openssl rand -hex 32)" -}}
{{- end -}}
{{- if and .Values.persistence.enabled (gt (int .Values.replicaCount) 1) -}}
{{- fail "persistence (SQLite) serves one replica: set replicaCount: 1, or use PostgreSQL and Redis in the Secret and persistence.enabled: false" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.persistence.enabled) (not .Values.secrets.POKOR_DATABASE_URL) -}}
{{- fail "no database: set secrets.POKOR_DATABASE_URL (postgres://…) or existingSecret, or persistence.enabled: true with replicaCount: 1 for SQLite" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (gt (int .Values.replicaCount) 1) (not .Values.secrets.POKOR_REDIS_URL) -}}
{{- fail "more than one replica needs Redis: set secrets.POKOR_REDIS_URL (or existingSecret), or replicaCount: 1" -}}
{{- end -}}
{{- if hasKey .Values.config "POKOR_ADDR" -}}
{{- fail "config.POKOR_ADDR is set by the chart (:8080, the container port); remove it" -}}
{{- end -}}
{{- end -}}
