import GraphQL

/// Says why a scalar refused a variable's value, before the executor does.
///
/// GraphQL's own variable coercion reports only `Expected type "Credits", found "…"`: it drops the
/// reason the scalar's parser gave (beyond the ledger's limit, too many decimal places, no offset).
/// So the endpoint first runs every scalar leaf of the operation's variables through its parser and,
/// at the first refusal, answers that reason with the variable and the path to the value, as a request
/// error (`BAD_USER_INPUT`, no `data`). What it does not refuse is left to GraphQL's coercion, which
/// still checks everything (nulls, unknown fields, enums, lists). The walk recurses once per level of
/// the value, which `GraphQLNestingScan` has already bounded (the request body nests at most 11 deep).
enum GraphQLScalarVariables {
    /// The refusal of the first variable of `operation` whose value a scalar refuses, or nil.
    static func firstRefusal(
        in operation: OperationDefinition, variables: [String: Map], schema: GraphQLSchema
    ) -> GraphQLError? {
        for definition in operation.variableDefinitions {
            let name = definition.variable.name.value
            guard let value = variables[name],
                let refusal = refusal(of: value, declared: definition.type, schema: schema, path: [])
            else { continue }
            let place = refusal.path.isEmpty ? "" : " at \"\(refusal.path.joined(separator: "."))\""
            return GraphQLError(message: "Variable \"$\(name)\"\(place): \(refusal.message)", nodes: [definition])
        }
        return nil
    }

    struct Refusal {
        let path: [String]
        let message: String
    }

    /// The walk over the variable's declared (document) type.
    private static func refusal(of value: Map, declared type: any Type, schema: GraphQLSchema, path: [String])
        -> Refusal?
    {
        switch type {
        case let nonNull as NonNullType:
            return refusal(of: value, declared: nonNull.type, schema: schema, path: path)
        case let list as ListType:
            return elements(of: value, path: path) { element, at in
                refusal(of: element, declared: list.type, schema: schema, path: at)
            }
        case let named as NamedType:
            guard let resolved = schema.getType(name: named.name.value) as? GraphQLInputType else { return nil }
            return refusal(of: value, as: resolved, path: path)
        default:
            return nil
        }
    }

    /// The walk over a schema type, for the fields of input objects.
    private static func refusal(of value: Map, as type: any GraphQLInputType, path: [String]) -> Refusal? {
        if case .null = value { return nil }
        if case .undefined = value { return nil }
        switch type {
        case let nonNull as GraphQLNonNull:
            guard let inner = nonNull.ofType as? any GraphQLInputType else { return nil }
            return refusal(of: value, as: inner, path: path)
        case let list as GraphQLList:
            guard let inner = list.ofType as? any GraphQLInputType else { return nil }
            return elements(of: value, path: path) { element, at in refusal(of: element, as: inner, path: at) }
        case let object as GraphQLInputObjectType:
            guard case .dictionary(let given) = value, let fields = try? object.fields() else { return nil }
            for (name, field) in fields {
                guard let fieldValue = given[name] else { continue }
                if let found = refusal(of: fieldValue, as: field.type, path: path + [name]) { return found }
            }
            return nil
        case let scalar as GraphQLScalarType:
            do {
                _ = try scalar.parseValue(value: value)
                return nil
            } catch let error as GraphQLError {
                return Refusal(path: path, message: error.message)
            } catch {
                return nil
            }
        default:
            return nil
        }
    }

    /// A list's elements with their indices, or the value itself (GraphQL coerces one value to a list).
    private static func elements(of value: Map, path: [String], _ check: (Map, [String]) -> Refusal?) -> Refusal? {
        guard case .array(let items) = value else { return check(value, path) }
        for (index, item) in items.enumerated() {
            if let found = check(item, path + [String(index)]) { return found }
        }
        return nil
    }
}
