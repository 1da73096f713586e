"""The W&B GraphQL schema subset the fake server speaks, in SDL.

Only the types and fields that the wandb SDK (0.31) and typical cleanup
scripts select are declared. Because documents are validated against this
schema, an unknown field, argument or variable gets a proper GraphQL error
naming it, as the real server would answer. Field names, argument names and
nullability follow W&B's public schema as seen through the SDK's generated
documents and pydantic models.
"""

from __future__ import annotations

from functools import lru_cache

from graphql import GraphQLSchema, build_schema

__all__ = ["SDL", "schema"]

SDL = """
scalar JSONString
scalar JSON
scalar DateTime
scalar Int64
scalar Duration

enum ArtifactState { PENDING COMMITTED DELETED }
enum ArtifactCollectionState { READY DELETED }
enum ArtifactDigestAlgorithm { MANIFEST_MD5 MANIFEST_XXH128 }

type Query {
  viewer: User
  serverInfo: ServerInfo
  entity(name: String): Entity
  organization(name: String!): Organization
  project(name: String, entityName: String): Project
  models(entityName: String, after: String, first: Int): ProjectConnection
  artifact(id: ID!): Artifact
  artifactCollection(id: ID!): ArtifactCollection
}

type Mutation {
  deleteArtifact(input: DeleteArtifactInput!): DeleteArtifactPayload
  deleteArtifactSequence(input: DeleteArtifactSequenceInput!): DeleteArtifactCollectionPayload
  deleteArtifactPortfolio(input: DeleteArtifactPortfolioInput!): DeleteArtifactCollectionPayload
  addAliases(input: AddAliasesInput!): AddAliasesPayload
  deleteAliases(input: DeleteAliasesInput!): DeleteAliasesPayload
  updateArtifact(input: UpdateArtifactInput!): UpdateArtifactPayload
  unlinkArtifact(input: UnlinkArtifactInput!): UnlinkArtifactPayload
  deleteRun(input: DeleteRunInput!): DeleteRunPayload
  linkArtifact(input: LinkArtifactInput!): LinkArtifactPayload
}

type ServerInfo {
  features: [ServerFeature]!
  cliVersionInfo: JSON
  latestLocalVersionInfo: LocalVersionInfo
  frontendHost: String
}

type LocalVersionInfo {
  outOfDate: Boolean!
  latestVersionString: String!
  versionOnThisInstanceString: String!
}

type ServerFeature {
  name: String!
  isEnabled: Boolean!
}

type PageInfo {
  startCursor: String
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
}

type User {
  id: ID!
  name: String!
  username: String
  email: String
  admin: Boolean
  flags: JSONString
  entity: String
  deletedAt: DateTime
  photoUrl: String
  apiKeys: ApiKeyConnection
  teams(first: Int): EntityConnection
  organizations: [Organization!]!
}

type ApiKey {
  id: ID!
  name: String!
  description: String
}

type ApiKeyEdge { node: ApiKey, cursor: String! }
type ApiKeyConnection { edges: [ApiKeyEdge!]!, pageInfo: PageInfo! }

type Entity {
  id: ID!
  name: String!
  isTeam: Boolean!
  entityType: String
  organization: Organization
  user: User
  projects(after: String, first: Int): ProjectConnection
}

type Organization {
  id: ID!
  name: String!
  orgEntity: Entity
}

type EntityEdge { node: Entity, cursor: String! }
type EntityConnection { edges: [EntityEdge!]!, pageInfo: PageInfo! }

type Project {
  id: ID!
  internalId: ID!
  name: String!
  entityName: String!
  entity: Entity!
  createdAt: DateTime!
  readOnly: Boolean
  isBenchmark: Boolean!
  user: User
  runCount(filters: JSONString): Int!
  run(name: String!): Run
  runs(filters: JSONString, after: String, first: Int, order: String): RunConnection
  artifactType(name: String!): ArtifactType
  artifactTypes(after: String, first: Int): ArtifactTypeConnection!
  artifactCollections(
    after: String, first: Int, filters: JSONString, order: String, collectionTypes: [String!]
  ): ArtifactCollectionConnection
  artifactCollection(name: String!): ArtifactCollection
  artifactCollectionMembership(name: String!): ArtifactCollectionMembership
  artifact(name: String!): Artifact
}

type ProjectEdge { node: Project, cursor: String! }
type ProjectConnection { edges: [ProjectEdge!]!, pageInfo: PageInfo! }

type Run {
  id: ID!
  name: String!
  displayName: String
  projectId: Int!
  project: Project
  state: String
  tags: [String!]!
  sweepName: String
  config: JSONString
  group: String
  jobType: String
  commit: String
  readOnly: Boolean
  createdAt: DateTime!
  heartbeatAt: DateTime
  description: String
  notes: String
  systemMetrics: JSONString
  summaryMetrics: JSONString
  historyLineCount: Int
  historyKeys: JSON
  user: User
  outputArtifacts(after: String, first: Int): ArtifactConnection
  inputArtifacts(after: String, first: Int): InputArtifactConnection
}

type RunEdge { node: Run!, cursor: String! }
type RunConnection { totalCount: Int!, edges: [RunEdge!]!, pageInfo: PageInfo! }

type ArtifactType {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  project: Project
  artifactCollections(
    after: String, first: Int, filters: JSONString, order: String
  ): ArtifactCollectionConnection
  artifactSequences(after: String, first: Int): ArtifactCollectionConnection
  artifactCollection(name: String!): ArtifactCollection
  artifactSequence(name: String!): ArtifactCollection
  artifact(name: String!): Artifact
}

type ArtifactTypeEdge { node: ArtifactType, cursor: String! }
type ArtifactTypeConnection { edges: [ArtifactTypeEdge!]!, pageInfo: PageInfo! }

type Tag {
  id: ID!
  name: String!
  tagCategoryName: String
  attributes: JSONString
}

type TagEdge { node: Tag!, cursor: String! }
type TagConnection { edges: [TagEdge!]!, pageInfo: PageInfo! }

interface ArtifactCollection {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  state: ArtifactCollectionState!
  project: Project
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  aliases(after: String, first: Int): ArtifactAliasConnection!
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection
  artifactMemberships(after: String, first: Int): ArtifactCollectionMembershipConnection!
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
}

type ArtifactSequence implements ArtifactCollection {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  state: ArtifactCollectionState!
  project: Project
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  aliases(after: String, first: Int): ArtifactAliasConnection!
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection
  artifactMemberships(after: String, first: Int): ArtifactCollectionMembershipConnection!
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
  latestArtifact: Artifact
}

type ArtifactPortfolio implements ArtifactCollection {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  state: ArtifactCollectionState!
  project: Project
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  aliases(after: String, first: Int): ArtifactAliasConnection!
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection
  artifactMemberships(after: String, first: Int): ArtifactCollectionMembershipConnection!
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
}

type ArtifactCollectionEdge { node: ArtifactCollection, cursor: String! }
type ArtifactCollectionConnection {
  totalCount: Int!
  edges: [ArtifactCollectionEdge!]!
  pageInfo: PageInfo!
}

type ArtifactAlias {
  id: ID!
  alias: String!
  artifactCollection: ArtifactCollection
  artifact: Artifact
}

type ArtifactAliasEdge { node: ArtifactAlias, cursor: String! }
type ArtifactAliasConnection { edges: [ArtifactAliasEdge!]!, pageInfo: PageInfo! }

type ArtifactCollectionMembership {
  id: ID!
  versionIndex: Int
  createdAt: DateTime!
  aliases: [ArtifactAlias!]!
  artifactCollection: ArtifactCollection
  artifact: Artifact
  files(names: [String!], after: String, first: Int): FileConnection!
}

type ArtifactCollectionMembershipEdge { node: ArtifactCollectionMembership, cursor: String! }
type ArtifactCollectionMembershipConnection {
  totalCount: Int!
  edges: [ArtifactCollectionMembershipEdge!]!
  pageInfo: PageInfo!
}

union ArtifactCreator = Run | User

type Artifact {
  id: ID!
  artifactSequence: ArtifactSequence!
  versionIndex: Int
  artifactType: ArtifactType!
  description: String
  metadata: JSONString
  ttlDurationSeconds: Int64!
  ttlIsInherited: Boolean!
  tags: [Tag!]!
  historyStep: Int64
  state: ArtifactState!
  size: Int64!
  digest: String!
  digestAlgorithm: ArtifactDigestAlgorithm
  commitHash: String
  fileCount: Int64!
  createdAt: DateTime!
  updatedAt: DateTime
  aliases: [ArtifactAlias!]!
  labels: JSONString
  artifactMemberships(after: String, first: Int): ArtifactCollectionMembershipConnection!
  currentManifest: ArtifactManifest
  usedBy(after: String, first: Int): RunConnection!
  createdBy: ArtifactCreator
  files(names: [String!], after: String, first: Int): FileConnection!
}

type VersionedArtifactEdge { node: Artifact!, version: String!, cursor: String! }
type VersionedArtifactConnection {
  totalCount: Int!
  edges: [VersionedArtifactEdge!]!
  pageInfo: PageInfo!
}

type ArtifactEdge { node: Artifact, cursor: String! }
type ArtifactConnection { totalCount: Int!, edges: [ArtifactEdge!]!, pageInfo: PageInfo! }

type InputArtifactEdge { node: Artifact, cursor: String!, usedAs: [String!]! }
type InputArtifactConnection { totalCount: Int!, edges: [InputArtifactEdge!]!, pageInfo: PageInfo! }

type ArtifactManifest {
  id: ID!
  type: String!
  createdAt: DateTime!
  digest: String!
  file: File!
}

type File {
  id: ID!
  name: String!
  displayName: String
  digest: String
  md5: String
  sizeBytes: Int64
  mimetype: String
  storagePath: String
  updatedAt: DateTime
  url(upload: Boolean): String
  directUrl: String!
}

type FileEdge { node: File, cursor: String! }
type FileConnection { totalCount: Int!, edges: [FileEdge!]!, pageInfo: PageInfo! }

input DeleteArtifactInput {
  artifactID: ID!
  deleteAliases: Boolean = false
  clientMutationId: String
}

type DeleteArtifactPayload {
  artifact: Artifact!
  clientMutationId: String
}

input DeleteArtifactSequenceInput {
  artifactSequenceID: ID!
  clientMutationId: String
}

input DeleteArtifactPortfolioInput {
  artifactPortfolioID: ID!
  clientMutationId: String
}

type DeleteArtifactCollectionPayload {
  artifactCollection: ArtifactCollection!
  clientMutationId: String
}

input ArtifactCollectionAliasInput {
  alias: String!
  artifactCollectionName: String!
  entityName: String!
  projectName: String!
}

input ArtifactAliasInput {
  alias: String!
  artifactCollectionName: String!
}

input AddAliasesInput {
  aliases: [ArtifactCollectionAliasInput!]!
  artifactID: ID!
  clientMutationId: String
}

type AddAliasesPayload { success: Boolean!, clientMutationId: String }

input DeleteAliasesInput {
  aliases: [ArtifactCollectionAliasInput!]!
  artifactID: ID!
  clientMutationId: String
}

type DeleteAliasesPayload { success: Boolean!, clientMutationId: String }

input TagInput {
  tagCategoryName: String
  tagName: String!
  attributes: JSONString
}

input UpdateArtifactInput {
  artifactID: ID!
  description: String
  labels: JSONString
  metadata: JSONString
  aliases: [ArtifactAliasInput!]
  tagsToAdd: [TagInput!]
  tagsToDelete: [TagInput!]
  ttlDurationSeconds: Int64
  clientMutationId: String
}

type UpdateArtifactPayload { artifact: Artifact!, clientMutationId: String }

input UnlinkArtifactInput {
  artifactID: ID!
  artifactPortfolioID: ID!
  clientMutationId: String
}

input LinkArtifactInput {
  artifactID: ID
  artifactPortfolioID: ID
  artifactPortfolioName: String
  entityName: String
  projectName: String
  aliases: [ArtifactAliasInput!]
  clientID: ID
  clientMutationId: String
}

type LinkArtifactPayload {
  versionIndex: Int
  artifactMembership: ArtifactCollectionMembership
  clientMutationId: String
}

input DeleteRunInput {
  id: ID!
  deleteArtifacts: Boolean = false
  clientMutationId: String
}

type DeleteRunPayload { clientMutationId: String }

type UnlinkArtifactPayload { artifactID: ID!, success: Boolean!, clientMutationId: String }
"""


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """The schema, built once per process (building costs a few milliseconds)."""
    from ._schema_write import WRITE_SDL

    return build_schema(SDL + WRITE_SDL)
