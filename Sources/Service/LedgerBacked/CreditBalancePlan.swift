import GraphQL
import Ledger

/// The compiled plan of the service's hottest query: the balance the platform asks for before work.
///
/// It compiles exactly this shape, and leaves everything else to the executor:
///
/// ```graphql
/// query Balance($org: ID!) { creditBalance(organisationId: $org) { available spendable currency } }
/// ```
///
/// one query operation without directives, whose only root field is `creditBalance` (aliased or not)
/// with `organisationId` given as a string literal or a variable without a default, selecting any of
/// the balance's stored fields and `__typename`, aliased or not, without directives. `runwayDays` (a
/// scan, resolved on demand) keeps the query on the executor. The plan calls the same resolver as the
/// schema, so authorisation and the point read are the schema's own; when the resolver throws, the
/// plan gives up and the executor reports the error.
struct CreditBalancePlan: Sendable {
    /// The fields of `CreditBalance` a plan answers: the stored values of `CreditBalanceView`, each serialised
    /// as its scalar serialises it.
    enum BalanceField: String, CaseIterable, Sendable {
        case organisationId, available, reserved, held, spendable, currency, asOf
        case typename = "__typename"

        func value(in view: CreditBalanceView) -> String {
            switch self {
            case .organisationId: view.organisationId.text
            case .available: view.available.text
            case .reserved: view.reserved.text
            case .held: view.held.text
            case .spendable: view.spendable.text
            case .currency: view.currency
            case .asOf: view.asOf.text
            case .typename: "CreditBalance"
            }
        }
    }

    enum OrganisationArgument: Sendable {
        case literal(String)
        case variable(String)
    }

    let operationName: String?
    let responseKey: String
    let organisation: OrganisationArgument
    /// Response keys and their fields, in selection order, each key once (validation guarantees that
    /// fields sharing a response key are the same field).
    let fields: [(key: String, field: BalanceField)]

    /// The plan for `document`, or nil when it is not the shape above. The document is validated.
    static func compile(_ document: Document) -> CreditBalancePlan? {
        guard document.definitions.count == 1, let operation = document.definitions[0] as? OperationDefinition,
            operation.operation == .query, operation.directives.isEmpty,
            operation.selectionSet.selections.count == 1,
            let root = operation.selectionSet.selections[0] as? Field, root.name.value == "creditBalance",
            root.directives.isEmpty, root.arguments.count == 1, root.arguments[0].name.value == "organisationId",
            let selections = root.selectionSet?.selections
        else { return nil }

        let organisation: OrganisationArgument
        switch root.arguments[0].value {
        case let literal as StringValue:
            organisation = .literal(literal.value)
        case let variable as Variable:
            let name = variable.name.value
            guard let definition = operation.variableDefinitions.first(where: { $0.variable.name.value == name }),
                definition.defaultValue == nil
            else { return nil }
            organisation = .variable(name)
        default:
            return nil
        }

        var fields: [(key: String, field: BalanceField)] = []
        for selection in selections {
            guard let field = selection as? Field, field.directives.isEmpty, field.arguments.isEmpty,
                field.selectionSet == nil, let known = BalanceField(rawValue: field.name.value)
            else { return nil }
            let key = field.alias?.value ?? field.name.value
            if !fields.contains(where: { $0.key == key }) { fields.append((key, known)) }
        }
        return CreditBalancePlan(
            operationName: operation.name?.value, responseKey: root.alias?.value ?? root.name.value,
            organisation: organisation, fields: fields)
    }

    /// The response body, or nil when the executor must answer (see `CompiledGraphQLQuery`).
    func run(_ request: GraphQLRequest, context: GraphQLRequestContext, resolver: LedgerResolver) async -> [UInt8]? {
        if let requested = request.operationName, requested != operationName { return nil }
        let organisationID: String
        switch organisation {
        case .literal(let value): organisationID = value
        case .variable(let name):
            guard case .string(let value)? = request.variables[name] else { return nil }
            organisationID = value
        }
        let view: CreditBalanceView
        do {
            view = try await resolver.creditBalance(
                context: context,
                arguments: LedgerResolver.BalanceArguments(organisationId: Identifier(organisationID)))
        } catch {
            return nil
        }
        var writer = GraphQLResponseWriter()
        writer.beginObject()
        writer.key("data", first: true)
        writer.beginObject()
        writer.key(responseKey, first: true)
        writer.beginObject()
        for (index, selected) in fields.enumerated() {
            writer.key(selected.key, first: index == 0)
            writer.string(selected.field.value(in: view))
        }
        writer.endObject()
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}
