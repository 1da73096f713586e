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
enum ArtifactCollectionType { PORTFOLIO SEQUENCE }
enum WorkflowsAdminType { MODEL }

type Query {
  viewer: User
  serverInfo: ServerInfo
  entity(name: String): Entity
  organization(id: ID, name: String): Organization
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
  addProtectedAliases(input: AddProtectedAliasesInput!): AddProtectedAliasesPayload
  removeProtectedAliases(input: RemoveProtectedAliasesInput!): RemoveProtectedAliasesPayload
  updateArtifactSequence(input: UpdateArtifactSequenceInput!): UpdateArtifactCollectionPayload
  updateArtifactPortfolio(input: UpdateArtifactPortfolioInput!): UpdateArtifactCollectionPayload
  moveArtifactSequence(input: MoveArtifactSequenceInput!): MoveArtifactSequencePayload
  createArtifactCollectionTagAssignments(
    input: CreateArtifactCollectionTagAssignmentsInput!
  ): CreateArtifactCollectionTagAssignmentsPayload
  deleteArtifactCollectionTagAssignments(
    input: DeleteArtifactCollectionTagAssignmentsInput!
  ): DeleteArtifactCollectionTagAssignmentsPayload
  upsertModel(input: UpsertModelInput!): UpsertModelPayload
  deleteModel(input: DeleteModelInput!): DeleteModelPayload
  renameProject(input: RenameProjectInput!): UpsertModelPayload
  createProjectMembers(input: CreateProjectMembersInput!): SuccessPayload
  deleteProjectMembers(input: DeleteProjectMembersInput!): SuccessPayload
  updateProjectMember(input: UpdateProjectMemberInput!): SuccessPayload
  updateProjectTeamMember(input: UpdateProjectTeamMemberInput!): SuccessPayload
}

type ServerInfo {
  features: [ServerFeature]!
  cliVersionInfo: JSON!
  latestLocalVersionInfo: LocalVersionInfo
  frontendHost: String!
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
  available: Boolean
  photoUrl: String
  readOnly: Boolean
  readOnlyAdmin: Boolean!
  privateOnly: Boolean!
  storageBytes: Int64!
  codeSavingEnabled: Boolean!
  defaultAccess: String!
  isPaid: Boolean
  members: [Member!]!
  projects(after: String, first: Int, filters: JSONString, order: String): ProjectConnection
  project(name: String): Project
  protectedAliases(adminType: WorkflowsAdminType!): [String!]!
  artifactCollections(
    projectFilters: JSONString, filters: JSONString, collectionTypes: [ArtifactCollectionType!],
    after: String, first: Int, order: String
  ): ArtifactCollectionConnection
  artifactMemberships(
    projectFilters: JSONString, collectionFilters: JSONString, filters: JSONString,
    after: String, first: Int, order: String
  ): ArtifactCollectionMembershipConnection
}

type Member {
  id: String
  name: String!
  username: String
  email: String
  role: String
  pending: Boolean
  photoUrl: String
  accountType: String
  apiKey: String
}

type Role { name: String! }

type ProjectMember {
  id: ID!
  name: String
  username: String
  email: String
  role: Role!
}

type ProjectTeamMember {
  team: Entity!
  role: Role!
}

type AdvancedRegistryFeatures { advancedSearch: Boolean! }

type Organization {
  id: ID!
  name: String!
  orgEntity: Entity
  advancedRegistryFeatures: AdvancedRegistryFeatures
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
  description: String
  updatedAt: DateTime
  access: String
  allowAllArtifactTypesInRegistry: Boolean!
  members: [ProjectMember!]!
  teamMembers: [ProjectTeamMember!]!
  runCount(filters: JSONString): Int!
  run(name: String!): Run
  runs(filters: JSONString, after: String, first: Int, order: String): RunConnection
  artifactType(name: String!): ArtifactType
  artifactTypes(after: String, first: Int, includeAll: Boolean): ArtifactTypeConnection!
  artifactCollections(
    after: String, first: Int, filters: JSONString, order: String,
    collectionTypes: [ArtifactCollectionType!]
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
  projectId: ID!
  project: Project
  state: String
  tags: [String!]
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
  project: Project!
  artifactCollections(
    after: String, first: Int, filters: JSONString, order: String
  ): ArtifactCollectionConnection
  artifactSequences(after: String, first: Int): ArtifactSequenceConnection
  artifactCollection(name: String!): ArtifactCollection
  artifactSequence(name: String!): ArtifactSequence
  artifact(name: String!): Artifact
}

type ArtifactTypeEdge { node: ArtifactType, cursor: String! }
type ArtifactTypeConnection { edges: [ArtifactTypeEdge!]!, pageInfo: PageInfo! }

type Tag {
  id: ID!
  name: String!
  tagCategoryName: String!
  attributes: JSONString!
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
  project: Project!
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
  project: Project!
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  aliases(after: String, first: Int): ArtifactAliasConnection!
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection!
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
  project: Project!
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  aliases(after: String, first: Int): ArtifactAliasConnection!
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection!
  artifactMemberships(after: String, first: Int): ArtifactCollectionMembershipConnection!
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
}

type ArtifactSequenceEdge { node: ArtifactSequence, cursor: String! }
type ArtifactSequenceConnection {
  totalCount: Int!
  edges: [ArtifactSequenceEdge!]!
  pageInfo: PageInfo!
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

union Initiator = Run | User

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
  artifactMemberships: ArtifactCollectionMembershipConnection!
  currentManifest: ArtifactManifest
  usedBy(after: String, first: Int): RunConnection!
  createdBy: Initiator!
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
  type: ArtifactManifestType!
  createdAt: DateTime!
  digest: String!
  file: File!
}

type File {
  id: ID!
  name: String!
  displayName: String!
  digest: String
  md5: String
  sizeBytes: Int64!
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

input AddProtectedAliasesInput {
  entityName: String!
  adminType: WorkflowsAdminType!
  aliases: [String!]!
  clientMutationID: String
}

type AddProtectedAliasesPayload { aliases: [String!]!, clientMutationID: String }

input RemoveProtectedAliasesInput {
  entityName: String!
  adminType: WorkflowsAdminType!
  aliases: [String!]!
  clientMutationID: String
}

type RemoveProtectedAliasesPayload { aliases: [String!]! }

input UpdateArtifactSequenceInput {
  artifactSequenceID: ID!
  name: String
  description: String
  clientMutationId: String
}

input UpdateArtifactPortfolioInput {
  artifactPortfolioID: ID!
  name: String
  description: String
  clientMutationId: String
}

type UpdateArtifactCollectionPayload { artifactCollection: ArtifactCollection!, clientMutationId: String }

input MoveArtifactSequenceInput {
  artifactSequenceID: ID!
  destinationArtifactTypeName: String!
  clientMutationId: String
}

type MoveArtifactSequencePayload { artifactCollection: ArtifactCollection, clientMutationId: String }

input CreateArtifactCollectionTagAssignmentsInput {
  entityName: String!
  projectName: String!
  artifactCollectionName: String!
  tags: [TagInput!]!
  clientMutationID: String
}

type CreateArtifactCollectionTagAssignmentsPayload { tags: [Tag!]!, clientMutationID: String }

input DeleteArtifactCollectionTagAssignmentsInput {
  entityName: String!
  projectName: String!
  artifactCollectionName: String!
  tags: [TagInput!]!
  clientMutationID: String
}

type DeleteArtifactCollectionTagAssignmentsPayload { success: Boolean!, clientMutationID: String }

input ArtifactTypeInput { name: String!, description: String }
input ProjectIconInput { name: String!, color: String! }
input RateLimitsInput {
  graphql: Int
  sdkGraphql: Int
  filestreamCount: Float
  filestreamSize: Int
  filestreamPerRunCount: Float
  runUpdateCount: Float
  createArtifacts: Int
  createArtifactsRequestCount: Int
  createArtifactsTimeWindow: Int
  sdkGraphqlQuerySeconds: Float
}

input UpsertModelInput {
  id: String
  name: String
  entityName: String
  description: String
  access: String
  allowAllArtifactTypesInRegistry: Boolean
  artifactTypes: [ArtifactTypeInput!]
  dockerImage: String
  framework: String
  icon: ProjectIconInput
  isBenchmark: Boolean
  isPublished: Boolean
  owner: ID
  rateLimits: RateLimitsInput
  repo: String
  views: String
  clientMutationId: String
}

type UpsertModelPayload { project: Project, inserted: Boolean, clientMutationId: String }

input DeleteModelInput { id: String!, clientMutationId: String }
type DeleteModelPayload { success: Boolean, clientMutationId: String }

input RenameProjectInput {
  entityName: String!
  oldProjectName: String!
  newProjectName: String!
  clientMutationId: String
}

input CreateProjectMembersInput { projectId: ID!, userIds: [ID!], teamIds: [ID!] }
input DeleteProjectMembersInput { projectId: ID!, userIds: [ID!], teamIds: [ID!] }
input UpdateProjectMemberInput {
  projectId: ID!
  userId: ID!
  userProjectRole: String!
  clientMutationId: String
}
input UpdateProjectTeamMemberInput {
  projectId: ID!
  teamId: ID!
  teamProjectRole: String!
  clientMutationId: String
}

type SuccessPayload { success: Boolean!, clientMutationId: String }
"""


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """The schema, built once per process (building costs a few milliseconds)."""
    from ._schema_write import WRITE_SDL

    return build_schema(SDL + WRITE_SDL)
