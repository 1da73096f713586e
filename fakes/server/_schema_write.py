"""The write path's part of the fake's schema: what ``wandb.init`` and ``log_artifact`` send.

Declared as extensions of :data:`fakes.server._schema.SDL` (``extend type``),
so the read-side schema stays as it is. The documents are wandb-core's (see
``reference/wandb-core-graphql`` and the installed binary); input fields
follow what wandb-core 0.31 sends.
"""

from __future__ import annotations

__all__ = ["WRITE_SDL"]

WRITE_SDL = """
enum ArtifactManifestType { FULL INCREMENTAL PATCH }
enum ArtifactStorageLayout { V1 V2 }
enum CompleteMultipartAction { Complete Abort }

extend type Query {
  model(name: String, entityName: String): Project
  clientIDMapping(clientID: ID!): ClientIDMappingResult
}

extend type Mutation {
  upsertBucket(input: UpsertBucketInput!): UpsertBucketPayload
  createRunFiles(input: CreateRunFilesInput!): CreateRunFilesPayload
  markRunFilesUploaded(input: MarkRunFilesUploadedInput!): MarkRunFilesUploadedPayload
  stopRun(input: StopRunInput!): StopRunPayload
  createArtifact(input: CreateArtifactInput!): CreateArtifactPayload
  createArtifactManifest(input: CreateArtifactManifestInput!): CreateArtifactManifestPayload
  updateArtifactManifest(input: UpdateArtifactManifestInput!): CreateArtifactManifestPayload
  createArtifactFiles(input: CreateArtifactFilesInput!): CreateArtifactFilesPayload
  completeMultipartUploadArtifact(
    input: CompleteMultipartUploadArtifactInput!
  ): CompleteMultipartUploadArtifactPayload
  commitArtifact(input: CommitArtifactInput!): CommitArtifactPayload
  useArtifact(input: UseArtifactInput!): UseArtifactPayload
}

type ClientIDMappingResult { serverID: ID! }

extend type Project {
  bucket(name: String!, missingOk: Boolean): Run
}

extend type Entity {
  xxhashDigestsEnabled: Boolean!
}

extend type Organization {
  coreWeaveOrganizationId: String
}

extend type ArtifactSequence {
  digestAlgorithm: ArtifactDigestAlgorithm
}

extend type Run {
  logLineCount: Int
  eventsLineCount: Int
  historyTail: JSONString
  eventsTail: JSONString
  summaryMetricsTail: String
  wandbConfig(keys: [String!]): JSONString
  stopped: Boolean
  exitcode: Float
}

extend type File {
  uploadUrl: String
  uploadHeaders: [String!]!
}

input UpsertBucketInput {
  id: String
  name: String
  groupName: String
  modelName: String
  entityName: String
  description: String
  displayName: String
  notes: String
  commit: String
  config: JSONString
  host: String
  debug: Boolean
  program: String
  repo: String
  jobProgram: String
  jobRepo: String
  jobType: String
  state: String
  sweep: String
  tags: [String!]
  summaryMetrics: JSONString
  clientMutationId: String
}

type UpsertBucketPayload { bucket: Run, inserted: Boolean, clientMutationId: String }

input CreateRunFilesInput {
  entityName: String!
  projectName: String!
  runName: String!
  files: [String!]!
  clientMutationId: String
}

type RunFileUpload { name: String!, uploadUrl: String }

type CreateRunFilesPayload {
  runID: ID!
  uploadHeaders: [String!]!
  files: [RunFileUpload!]!
  clientMutationId: String
}

input MarkRunFilesUploadedInput {
  entityName: String!
  projectName: String!
  runName: String!
  files: [String!]!
  clientMutationId: String
}

type MarkRunFilesUploadedPayload { success: Boolean!, clientMutationId: String }

input StopRunInput { id: ID!, clientMutationId: String }

type StopRunPayload { success: Boolean, clientMutationId: String }

input CreateArtifactInput {
  artifactTypeName: String!
  artifactCollectionName: String
  artifactCollectionNames: [String!]
  entityName: String!
  projectName: String!
  runName: String
  description: String
  digest: String!
  digestAlgorithm: ArtifactDigestAlgorithm
  labels: JSONString
  aliases: [ArtifactAliasInput!]
  tags: [TagInput!]
  metadata: JSONString
  ttlDurationSeconds: Int64
  historyStep: Int64
  enableDigestDeduplication: Boolean
  distributedID: String
  clientID: ID
  sequenceClientID: ID
  storageRegion: String
  clientMutationId: String
}

type CreateArtifactPayload { artifact: Artifact!, clientMutationId: String }

input CreateArtifactManifestInput {
  artifactID: ID!
  baseArtifactID: ID
  name: String!
  digest: String!
  entityName: String!
  projectName: String!
  runName: String!
  type: ArtifactManifestType
  includeUpload: Boolean
  clientMutationId: String
}

input UpdateArtifactManifestInput {
  artifactManifestID: ID!
  digest: String
  baseArtifactID: ID
  clientMutationId: String
}

type CreateArtifactManifestPayload { artifactManifest: ArtifactManifest!, clientMutationId: String }

input UploadPartsInput {
  partNumber: Int64!
  hexMD5: String!
}

input CreateArtifactFileSpecInput {
  artifactID: ID!
  name: String!
  md5: String!
  digest: String
  mimetype: String
  artifactManifestID: ID
  uploadPartsInput: [UploadPartsInput!]
}

input CreateArtifactFilesInput {
  artifactFiles: [CreateArtifactFileSpecInput!]!
  storageLayout: ArtifactStorageLayout!
  storageRegion: String
  cloudRegionID: String
  digestAlgorithm: ArtifactDigestAlgorithm
  clientMutationId: String
}

type UploadUrlPart { partNumber: Int64!, uploadUrl: String! }

type UploadMultipartUrls { uploadID: String!, uploadUrlParts: [UploadUrlPart!]! }

type ArtifactFileUpload {
  id: ID!
  name: String!
  displayName: String
  storagePath: String
  uploadUrl: String
  uploadHeaders: [String!]!
  uploadMultipartUrls: UploadMultipartUrls
  artifact: Artifact
}

type ArtifactFileUploadEdge { node: ArtifactFileUpload, cursor: String }

type ArtifactFileUploadConnection { edges: [ArtifactFileUploadEdge!]! }

type CreateArtifactFilesPayload { files: ArtifactFileUploadConnection!, clientMutationId: String }

input CompleteMultipartUploadArtifactInput {
  completeMultipartAction: CompleteMultipartAction!
  completedParts: [UploadPartsInput!]!
  artifactID: ID!
  storagePath: String!
  uploadID: String!
  clientMutationId: String
}

type CompleteMultipartUploadArtifactPayload { digest: String, clientMutationId: String }

input CommitArtifactInput { artifactID: ID!, clientMutationId: String }

type CommitArtifactPayload { artifact: Artifact!, clientMutationId: String }

input UseArtifactInput {
  entityName: String!
  projectName: String!
  runName: String!
  artifactID: ID!
  usedAs: String
  artifactEntityName: String
  artifactProjectName: String
  clientMutationId: String
}

type UseArtifactPayload { artifact: Artifact!, clientMutationId: String }
"""
