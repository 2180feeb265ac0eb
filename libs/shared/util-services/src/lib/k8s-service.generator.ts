import { GENERATED_NOTICE, linesOf } from './generated-notice';
import type { ServiceDefinition } from './services.types';

const NAME_LABEL = 'app.kubernetes.io/name';
/**
 * The bound of each app's temp folder (the root filesystem is read-only): the uploads held whole before they go on
 * (MAX_SPOOL_BYTES, 1 GiB by default) and room for the rest. Past it the kubelet evicts the pod, so the app's own
 * limit must come first: raise both together.
 */
export const TMP_SIZE_LIMIT = '1280Mi';

function podLines(service: ServiceDefinition, image: string): string[] {
  const { name, port, resources } = service;
  return [
    '    spec:',
    '      # preStop sleep (10 s) + SHUTDOWN_DRAIN_MS (25 s) + margin: streams drain before the kill.',
    '      terminationGracePeriodSeconds: 45',
    '      automountServiceAccountToken: false',
    '      securityContext:',
    '        runAsNonRoot: true',
    '        runAsUser: 1000',
    '        runAsGroup: 1000',
    '        fsGroup: 1000',
    '        seccompProfile:',
    '          type: RuntimeDefault',
    '      containers:',
    `        - name: ${name}`,
    `          image: ${image}:latest`,
    '          imagePullPolicy: IfNotPresent',
    '          ports:',
    '            - name: http',
    `              containerPort: ${port}`,
    '          envFrom:',
    '            - configMapRef:',
    '                name: openai-proxy-config',
    '            - secretRef:',
    '                name: openai-proxy-secrets',
    '                optional: true',
    '          env:',
    '            - name: APP',
    `              value: ${name}`,
    '            - name: PORT',
    `              value: "${port}"`,
    '          resources:',
    '            requests:',
    `              cpu: ${resources.requests.cpu}`,
    `              memory: ${resources.requests.memory}`,
    '            limits:',
    `              cpu: "${resources.limits.cpu}"`,
    `              memory: ${resources.limits.memory}`,
    ...containerSafetyLines(),
  ];
}

function probeLines(kind: string, path: string, periodSeconds: number, failureThreshold: number): string[] {
  return [
    `          ${kind}:`,
    '            httpGet:',
    `              path: ${path}`,
    '              port: http',
    `            periodSeconds: ${periodSeconds}`,
    `            failureThreshold: ${failureThreshold}`,
  ];
}

function containerSafetyLines(): string[] {
  return [
    '          securityContext:',
    '            allowPrivilegeEscalation: false',
    '            readOnlyRootFilesystem: true',
    '            capabilities:',
    '              drop: ["ALL"]',
    ...probeLines('startupProbe', '/healthz', 2, 30),
    ...probeLines('livenessProbe', '/healthz', 10, 3),
    ...probeLines('readinessProbe', '/readyz', 5, 2),
    '          lifecycle:',
    '            preStop:',
    '              exec:',
    '                command: ["sleep", "10"]',
    '          volumeMounts:',
    '            - name: tmp',
    '              mountPath: /tmp',
    '      volumes:',
    '        - name: tmp',
    '          emptyDir:',
    `            sizeLimit: ${TMP_SIZE_LIMIT}`,
  ];
}

function deploymentLines(service: ServiceDefinition, image: string): string[] {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${service.name}`,
    '  labels:',
    `    ${NAME_LABEL}: ${service.name}`,
    `    app.kubernetes.io/component: ${service.role}`,
    'spec:',
    `  replicas: ${service.scaling.replicas}`,
    '  selector:',
    '    matchLabels:',
    `      ${NAME_LABEL}: ${service.name}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        ${NAME_LABEL}: ${service.name}`,
    ...podLines(service, image),
  ];
}

function serviceLines(service: ServiceDefinition): string[] {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${service.name}`,
    '  labels:',
    `    ${NAME_LABEL}: ${service.name}`,
    'spec:',
    '  type: ClusterIP',
    '  selector:',
    `    ${NAME_LABEL}: ${service.name}`,
    '  ports:',
    '    - name: http',
    `      port: ${service.port}`,
    '      targetPort: http',
  ];
}

function autoscalerLines(service: ServiceDefinition): string[] {
  return [
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    'metadata:',
    `  name: ${service.name}`,
    'spec:',
    '  scaleTargetRef:',
    '    apiVersion: apps/v1',
    '    kind: Deployment',
    `    name: ${service.name}`,
    `  minReplicas: ${service.scaling.minReplicas}`,
    `  maxReplicas: ${service.scaling.maxReplicas}`,
    '  metrics:',
    '    - type: Resource',
    '      resource:',
    '        name: cpu',
    '        target:',
    '          type: Utilization',
    `          averageUtilization: ${service.scaling.cpuUtilization}`,
  ];
}

function disruptionBudgetLines(service: ServiceDefinition): string[] {
  return [
    'apiVersion: policy/v1',
    'kind: PodDisruptionBudget',
    'metadata:',
    `  name: ${service.name}`,
    'spec:',
    `  minAvailable: ${service.scaling.minAvailable}`,
    '  selector:',
    '    matchLabels:',
    `      ${NAME_LABEL}: ${service.name}`,
  ];
}

/**
 * k8s/base/<service>.yaml: its Deployment (the manifest's one image, `APP` naming the service), Service,
 * HorizontalPodAutoscaler and PodDisruptionBudget.
 */
export function kubernetesServiceFile(service: ServiceDefinition, image: string): string {
  return linesOf([
    `# ${GENERATED_NOTICE}`,
    `# ${service.name}: Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget.`,
    ...deploymentLines(service, image),
    '---',
    ...serviceLines(service),
    '---',
    ...autoscalerLines(service),
    '---',
    ...disruptionBudgetLines(service),
  ]);
}
