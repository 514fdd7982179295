/**
 * Which properties of an acorn node hold its children, in source order:
 * what the transform's walks and the name-inference model (which must meet
 * constructs in the order V8 reads them) go through.
 *
 * Owns: the table. Invariant: for every node type listed, the keys are in
 * source order; a type acorn learns before this table does falls back to
 * every own key (then in acorn's order).
 */

// Child keys of each node type, in source order. Unknown types fall back to
// every own key (rare: new syntax acorn learns before this table does).
const CHILDREN: Record<string, readonly string[]> = {
  Program: ['body'], ExpressionStatement: ['expression'], BlockStatement: ['body'], StaticBlock: ['body'],
  EmptyStatement: [], DebuggerStatement: [], WithStatement: ['object', 'body'], ReturnStatement: ['argument'],
  LabeledStatement: ['body'], BreakStatement: [], ContinueStatement: [], IfStatement: ['test', 'consequent', 'alternate'],
  SwitchStatement: ['discriminant', 'cases'], SwitchCase: ['test', 'consequent'], ThrowStatement: ['argument'],
  TryStatement: ['block', 'handler', 'finalizer'], CatchClause: ['param', 'body'], WhileStatement: ['test', 'body'],
  DoWhileStatement: ['body', 'test'], ForStatement: ['init', 'test', 'update', 'body'], ForInStatement: ['left', 'right', 'body'],
  ForOfStatement: ['left', 'right', 'body'], FunctionDeclaration: ['params', 'body'], VariableDeclaration: ['declarations'],
  VariableDeclarator: ['id', 'init'], ClassDeclaration: ['superClass', 'body'], ClassExpression: ['superClass', 'body'],
  ClassBody: ['body'], MethodDefinition: ['key', 'value'], PropertyDefinition: ['key', 'value'], ArrayExpression: ['elements'],
  ObjectExpression: ['properties'], Property: ['key', 'value'], FunctionExpression: ['params', 'body'],
  ArrowFunctionExpression: ['params', 'body'], UnaryExpression: ['argument'], UpdateExpression: ['argument'],
  BinaryExpression: ['left', 'right'], LogicalExpression: ['left', 'right'], AssignmentExpression: ['left', 'right'],
  MemberExpression: ['object', 'property'], ConditionalExpression: ['test', 'consequent', 'alternate'],
  CallExpression: ['callee', 'arguments'], NewExpression: ['callee', 'arguments'], SequenceExpression: ['expressions'],
  YieldExpression: ['argument'], AwaitExpression: ['argument'], TemplateLiteral: ['expressions'],
  TaggedTemplateExpression: ['tag', 'quasi'], SpreadElement: ['argument'], RestElement: ['argument'],
  ObjectPattern: ['properties'], ArrayPattern: ['elements'], AssignmentPattern: ['left', 'right'],
  ImportDeclaration: [], ExportNamedDeclaration: ['declaration'], ExportDefaultDeclaration: ['declaration'],
  ExportAllDeclaration: [], ImportExpression: ['source', 'options'], ChainExpression: ['expression'],
  ParenthesizedExpression: ['expression'], MetaProperty: [], Identifier: [], Literal: [], ThisExpression: [], Super: [],
  PrivateIdentifier: [], TemplateElement: [],
};

export function childKeys(node: { type: string }): readonly string[] {
  return CHILDREN[node.type] ?? Object.keys(node).filter((k) => k !== 'type' && k !== 'start' && k !== 'end');
}

/** Calls `visit` on each child node of `node`, in source order. */
export function forEachChild<T extends { type: string }>(node: T, visit: (child: T) => void): void {
  for (const key of childKeys(node)) {
    const v = (node as unknown as Record<string, unknown>)[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c !== null && typeof c === 'object') visit(c as T);
    } else if (v !== null && typeof v === 'object' && typeof (v as T).type === 'string') visit(v as T);
  }
}
