"""Editing and listing campaigns (who may do it is in test_ownership)."""

import pytest

from core.campaigns.commands import AddToCampaign, ListCampaigns, UpdateCampaign
from core.command import Actor, CampaignRef
from core.errors import Conflict, InvalidInput, NotFound


async def test_golden_ticket_renames_and_launches_a_campaign(core, gt, campaign):
    camp = await campaign("Fintech", status="draft")
    result = await core.execute(
        UpdateCampaign(Actor(gt.id), CampaignRef(id=camp.id), name="Fintech Q1", status="live", geography="UK")
    )
    assert result.message == "Campaign “Fintech Q1” saved (live)."
    assert (result.campaign.name, result.campaign.status, result.campaign.geography) == ("Fintech Q1", "live", "UK")


async def test_a_rename_onto_another_campaigns_name_is_a_conflict(core, gt, campaign):
    await campaign("Fintech")
    await campaign("Health")
    with pytest.raises(Conflict, match="A campaign called “fintech” already exists."):
        await core.execute(UpdateCampaign(Actor(gt.id), CampaignRef.of("Health"), name="fintech"))


async def test_an_unknown_status_is_refused(core, gt, campaign):
    await campaign("Fintech")
    with pytest.raises(InvalidInput, match="A campaign is draft, live or closed."):
        await core.execute(UpdateCampaign(Actor(gt.id), CampaignRef.of("Fintech"), status="paused"))


async def test_an_unknown_campaign_is_not_found(core, gt):
    with pytest.raises(NotFound, match="There is no campaign “Nope”. Say `campaigns` to see them."):
        await core.execute(UpdateCampaign(Actor(gt.id), CampaignRef.of("Nope"), status="live"))


async def test_the_list_shows_live_campaigns_first_with_their_size_and_hides_closed_ones(core, gt, make, campaign):
    await campaign("Alpha", status="draft")
    live = await campaign("Zulu", status="live")
    await campaign("Old", status="closed")
    contact = await make.contact(gt, "Carol")
    await core.execute(AddToCampaign(Actor(gt.id), CampaignRef(id=live.id), (contact.id,)))
    listed = (await core.execute(ListCampaigns(Actor(gt.id)))).campaigns
    assert [(c.name, c.status, c.contact_count) for c in listed] == [("Zulu", "live", 1), ("Alpha", "draft", 0)]


async def test_a_campaign_name_fragment_matching_several_says_so(core, gt):
    from core.campaigns.commands import CreateCampaign
    from core.command import Actor, CampaignRef
    from core.errors import InvalidInput
    from core.feed.commands import TodaySuggestions

    for name in ("Fintech Q1", "Fintech Q2"):
        await core.execute(CreateCampaign(Actor(gt.id), name))
    with pytest.raises(InvalidInput, match="matches several campaigns: “Fintech Q1”, “Fintech Q2”"):
        await core.execute(TodaySuggestions(Actor(gt.id), campaign=CampaignRef(name="fintech")))
