/** One environment variable a service reads. */
export interface ServiceEnvVariable {
  readonly name: string;
  /** A secret goes into the Kubernetes Secret, never the ConfigMap, and is never logged. */
  readonly secret: boolean;
  /** The value the deployments set (Kubernetes ConfigMap or Secret); absent: read when set, else the default. */
  readonly deployed?: string;
}

/** Replicas and disruption limits, as the Kubernetes base sets them (the overlays patch them per environment). */
export interface ServiceScaling {
  readonly replicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** HorizontalPodAutoscaler target: average CPU utilization, percent. */
  readonly cpuUtilization: number;
  /** PodDisruptionBudget minAvailable. */
  readonly minAvailable: number;
}

export interface ServiceResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

interface ServiceCommon {
  readonly name: string;
  /** PORT's default, the launcher's default and the container port. */
  readonly port: number;
  /** The launcher's variable for this service's port (`npm start`). */
  readonly portVariable: string;
  /** The ESLint/Nx scope tag (`scope:<lintScope>`) of the libs this service is built from. */
  readonly lintScope: string;
  /** Variables this service reads besides the ones every service reads. */
  readonly env: readonly ServiceEnvVariable[];
  readonly scaling: ServiceScaling;
  readonly resources: ServiceResources;
}

/** A service behind the gateway: it owns some public path prefixes and serves some providers. */
export interface BackendServiceDefinition extends ServiceCommon {
  readonly role: 'backend';
  /** The gateway's variable holding this service's base URL. */
  readonly urlVariable: string;
  /** Public path prefixes (`/openai/**`); the gateway forwards them unchanged. */
  readonly prefixes: readonly string[];
  /** Provider names as metrics and readiness show them. */
  readonly providers: readonly string[];
  /** What the prefixes offer, for the gateway's /docs. */
  readonly summary: string;
  /** This service also serves each `OPENAI_COMPATIBLE_PROVIDERS` entry at `/<name>/**` (one backend does). */
  readonly servesCompatibleProviders?: boolean;
}

/** The public edge: it starts last and reaches every backend service. */
export interface EdgeServiceDefinition extends ServiceCommon {
  readonly role: 'edge';
  /** The host port docker-compose publishes. */
  readonly publishedPort: number;
}

export type ServiceDefinition = BackendServiceDefinition | EdgeServiceDefinition;

/** The services in start order (backends before the edge), and what every service reads. */
export interface ServicesManifest {
  /** The one image every service runs from (`APP` picks the service), in docker-compose and Kubernetes. */
  readonly image: string;
  readonly services: readonly ServiceDefinition[];
  readonly commonEnv: readonly ServiceEnvVariable[];
}
