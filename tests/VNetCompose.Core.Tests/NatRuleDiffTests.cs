using System.Net;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Tests;

public sealed class NatRuleDiffTests
{
    private static NatRuleState Masq(string source) => new(NatChain.Postrouting, NatVerdictKind.Masquerade, IPNetwork.Parse(source));

    private static NatRuleState Forward(ushort port) => new(NatChain.Prerouting, NatVerdictKind.Dnat, L4Protocol: 6,
        DestinationPort: port, ToAddress: IPAddress.Parse("10.0.0.2"));

    private static readonly NatRuleState A = Masq("10.1.0.0/16"), B = Masq("10.2.0.0/16"), C = Masq("10.3.0.0/16"), X = Masq("10.9.0.0/16");

    /// <summary>Each difference as text: "+ rule @pos", "- rule @pos", "~ before -> after @pos", "move rule from -> to".</summary>
    private static string[] Diff(NatRuleState[] have, NatRuleState[] want) =>
        NatRuleDiff.Compare(have, want).Select(d => d switch
        {
            { IsMove: true } => $"move {d.After!.Describe()} {d.BeforePosition} -> {d.AfterPosition}",
            { Before: null } => $"+ {d.After!.Describe()} @{d.AfterPosition}",
            { After: null } => $"- {d.Before!.Describe()} @{d.BeforePosition}",
            _ => $"~ {d.Before!.Describe()} -> {d.After!.Describe()} @{d.AfterPosition}",
        }).ToArray();

    [Fact]
    public void SameRules_HaveNoDifference() => Diff([A, B, Forward(80)], [A, B, Forward(80)]).Should().BeEmpty();

    [Fact]
    public void ARuleMissingInTheMiddle_IsOneAddition_NotAShiftOfTheRest() =>
        Diff([A, C], [A, B, C]).Should().Equal("+ masquerade 10.2.0.0/16 @2");

    [Fact]
    public void AnExtraRule_IsOneRemoval() =>
        Diff([A, X, B], [A, B]).Should().Equal("- masquerade 10.9.0.0/16 @2");

    [Fact]
    public void ARuleReplacedByAnother_IsAChange() =>
        Diff([A, X, C], [A, B, C]).Should().Equal("~ masquerade 10.9.0.0/16 -> masquerade 10.2.0.0/16 @2");

    [Fact]
    public void ARuleAtAnotherPlace_IsAMove() =>
        Diff([B, C, A], [A, B, C]).Should().Equal("move masquerade 10.1.0.0/16 3 -> 1");

    [Fact]
    public void Chains_AreComparedEachOnItsOwn_InChainOrder() =>
        Diff([Forward(81), A], [A, Forward(80)]).Should().Equal("~ port_forward tcp 81 to 10.0.0.2 -> port_forward tcp 80 to 10.0.0.2 @1");

    [Fact]
    public void EmptySides_AreAllAddedOrAllRemoved()
    {
        Diff([], [A, Forward(80)]).Should().Equal("+ masquerade 10.1.0.0/16 @1", "+ port_forward tcp 80 to 10.0.0.2 @1");
        Diff([A, B], []).Should().Equal("- masquerade 10.1.0.0/16 @1", "- masquerade 10.2.0.0/16 @2");
    }

    [Fact]
    public void ManyExtraAndMissing_PairAsChangesThenTheRestStays() =>
        Diff([X, Masq("10.8.0.0/16")], [B]).Should().Equal("~ masquerade 10.9.0.0/16 -> masquerade 10.2.0.0/16 @1", "- masquerade 10.8.0.0/16 @2");
}
